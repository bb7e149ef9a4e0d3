"""The demo's view of the collectivité calendar: the default range, holidays, opening hours.

Why a separate, tiny calendar here instead of the dbt one: the generator runs before any
warehouse exists and only needs to *place* events realistically (inside or outside opening
hours, on business days or not). The rules it must agree with are the configuration's own
(holidays.France with the configured subdivision, worked holidays, closures, versioned
opening hours), so it reads exactly those and nothing else.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from functools import lru_cache

import holidays

from vigie.config import OpeningHours, Service, VigieConfig

DEMO_DAYS = 28
_MIDNIGHT = dt.time(0)


def _public_holidays(cfg: VigieConfig, years: range) -> dict[dt.date, str]:
    """Non-worked public holidays of the configured subdivision, for the given years."""
    cal = holidays.France(subdiv=cfg.collectivite.holidays.subdivision, years=list(years))
    worked = set(cfg.collectivite.holidays.worked)
    return {d: str(name) for d, name in sorted(cal.items()) if d not in worked}


def default_demo_range(cfg: VigieConfig, today: dt.date) -> tuple[dt.date, dt.date]:
    """The 28 days ending yesterday (inclusive), stretched back to cross a weekday holiday.

    A demo must show how a holiday moves deadlines; when the last 28 days hold no public
    holiday on a weekday (Monday-Friday), the start moves back to the most recent one.
    Example: today 2026-11-28 -> 2026-10-31..2026-11-27 (holds Wednesday 11 November);
    today 2026-07-01 (metropole) -> June holds none, so 2026-05-25 (Whit Monday)..2026-06-30.
    """
    end = today - dt.timedelta(days=1)
    start = end - dt.timedelta(days=DEMO_DAYS - 1)
    hols = _public_holidays(cfg, range(start.year - 2, end.year + 1))
    weekday_hols = sorted(d for d in hols if d.weekday() < 5 and d <= end)
    if any(start <= d <= end for d in weekday_hols):
        return start, end
    earlier = [d for d in weekday_hols if d < start]
    if earlier:
        start = earlier[-1]
    return start, end


@dataclass
class DemoCalendar:
    """Holidays, closures and opening hours of every service, in the collectivité's zone."""

    tz: zoneinfo.ZoneInfo
    holidays: dict[dt.date, str]
    closures: dict[str | None, set[dt.date]]  # None = whole collectivité
    services: dict[str, Service]
    _cache: dict[tuple[str, dt.date], list[tuple[int, int]]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: VigieConfig, start: dt.date, end: dt.date) -> DemoCalendar:
        hols = _public_holidays(cfg, range(start.year - 1, end.year + 2))
        closures: dict[str | None, set[dt.date]] = {None: set()}
        for c in cfg.collectivite.closures:
            closures[None].update(c.days())
        for s in cfg.services:
            closures[s.code] = {d for c in s.closures for d in c.days()}
        return cls(cfg.tz, hols, closures, {s.code: s for s in cfg.services})

    def is_closed_day(self, code: str, day: dt.date) -> bool:
        """A public holiday or a closure (collectivité-wide or of this service)."""
        return day in self.holidays or day in self.closures[None] or day in self.closures.get(code, ())

    def is_business_day(self, code: str, day: dt.date) -> bool:
        """Jour ouvré: Monday-Friday, not a holiday, not a closure."""
        return day.weekday() < 5 and not self.is_closed_day(code, day)

    def opening_ranges(self, code: str, day: dt.date) -> list[tuple[int, int]]:
        """Opening ranges (minutes after local midnight) of a service on a day; [] when closed."""
        key = (code, day)
        if key not in self._cache:
            if self.is_closed_day(code, day):
                self._cache[key] = []
            else:
                self._cache[key] = _version(self.services[code].opening_hours, day).ranges_for(day.weekday())
        return self._cache[key]

    def is_open_at(self, code: str, day: dt.date, minute: float) -> bool:
        return any(a <= minute < b for a, b in self.opening_ranges(code, day))

    def add_business_days(self, code: str, day: dt.date, n: int) -> dt.date:
        """The n-th business day after ``day`` (n = 0: ``day`` itself if it counts, else the next)."""
        d = day
        while not self.is_business_day(code, d):
            d += dt.timedelta(days=1)
        for _ in range(n):
            d += dt.timedelta(days=1)
            while not self.is_business_day(code, d):
                d += dt.timedelta(days=1)
        return d

    def epoch(self, day: dt.date, minute: float) -> int:
        """UTC epoch seconds of a local wall-clock instant (minutes after midnight, DST-correct)."""
        return local_epoch(self.tz, day, minute)


def _version(versions: list[OpeningHours], day: dt.date) -> OpeningHours:
    chosen = versions[0]
    for v in versions:
        if v.valid_from <= day:
            chosen = v
    return chosen


@lru_cache(maxsize=4096)
def _midnight_epoch(tz: zoneinfo.ZoneInfo, day: dt.date) -> tuple[int, int]:
    """(epoch of local midnight, UTC offset in seconds at local noon) for one day."""
    midnight = dt.datetime.combine(day, _MIDNIGHT, tzinfo=tz)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=tz)
    return int(midnight.timestamp()), int(noon.utcoffset().total_seconds())  # type: ignore[union-attr]


def local_epoch(tz: zoneinfo.ZoneInfo, day: dt.date, minute: float) -> int:
    """UTC epoch of local ``day`` + ``minute`` minutes of wall-clock time.

    Fast path for the usual case; the slow, exact zoneinfo conversion on DST-change days.
    """
    base, _ = _midnight_epoch(tz, day)
    next_base, _ = _midnight_epoch(tz, day + dt.timedelta(days=1))
    if next_base - base == 86400:
        return base + int(minute * 60)
    seconds = int(minute * 60)
    naive = dt.datetime.combine(day, _MIDNIGHT) + dt.timedelta(seconds=seconds)
    return int(naive.replace(tzinfo=tz).timestamp())


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Inclusive list of days."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
