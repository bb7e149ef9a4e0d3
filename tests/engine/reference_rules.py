"""A straightforward, per-row Python reading of domain.md §4–§5, used ONLY to check the engine.

The SQL engine (dbt_project/models/intermediate/commitments/int_commitment_evaluations.sql) is
set-based: day indices, cumulative opening minutes and ASOF joins. This module answers the same
questions the obvious way, one request at a time, straight from the validated ``VigieConfig``:
walk the days one by one, list the opening intervals of each day, add up overlaps. It shares no
code with the engine except the holiday list (``vigie.warehouse_config.public_holidays``, the
``holidays`` package: input data, not a rule), so an agreement on many random cases is evidence
that the index and ASOF tricks say what the rules say (tests/engine/test_reference_agreement.py).
benchmarks/bench_engine.py also times it as the "per-row Python implementation".

Instants are aware UTC datetimes; durations are integer microseconds (Python subtracts aware
datetimes sharing one zoneinfo tzinfo as wall-clock times, so no local instant is ever
subtracted here).
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass

from vigie.config import Commitment, VigieConfig
from vigie.warehouse_config import public_holidays

UTC = dt.UTC
DAY_UNITS = ("business_days", "working_days", "calendar_days", "weeks")
TIME_UNITS = ("business_minutes", "business_hours")
_US_PER = {"business_minutes": 60_000_000, "business_hours": 3_600_000_000}


def _us(delta: dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Evaluation:
    elapsed_value: float | None
    deadline_at: dt.datetime | None
    status: str
    counted_on: dt.date


class ReferenceCalendar:
    """Per-service days and opening intervals over [start, end] (local dates), from the config."""

    def __init__(self, cfg: VigieConfig, start: dt.date, end: dt.date):
        self.tz = zoneinfo.ZoneInfo(cfg.collectivite.timezone)
        self.start, self.end = start, end
        self.holidays = {
            day for day, _name, worked in public_holidays(cfg, range(start.year, end.year + 1)) if not worked
        }
        common = {d for c in cfg.collectivite.closures for d in c.days()}
        self.closed = {s.code: common | {d for c in s.closures for d in c.days()} for s in cfg.services}
        self.hours = {s.code: list(s.opening_hours) for s in cfg.services}
        self._intervals: dict[tuple[str, dt.date], list[tuple[dt.datetime, dt.datetime]]] = {}

    # -- days ----------------------------------------------------------------------------
    def counts(self, service: str, day: dt.date, unit: str) -> bool:
        """Whether ``day`` counts for a day-based unit (jour ouvré, ouvrable, calendar day)."""
        if unit in ("calendar_days", "weeks"):
            return True
        last_weekday = 4 if unit == "business_days" else 5  # Friday / Saturday
        return day.weekday() <= last_weekday and day not in self.holidays and day not in self.closed[service]

    def next_counting(self, service: str, day: dt.date, unit: str) -> dt.date:
        while not self.counts(service, day, unit):
            day += dt.timedelta(days=1)
        return day

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.tz).date()

    def local_instant(self, day: dt.date, minutes: int) -> dt.datetime:
        """Wall-clock ``day`` + ``minutes`` in the zone, as a UTC instant (24:00 = next 00:00)."""
        naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
        return naive.replace(tzinfo=self.tz).astimezone(UTC)

    # -- opening intervals -----------------------------------------------------------------
    def intervals(self, service: str, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """Opening intervals of a service on a local date (none on holidays and closures)."""
        key = (service, day)
        if key not in self._intervals:
            out: list[tuple[dt.datetime, dt.datetime]] = []
            if day not in self.holidays and day not in self.closed[service]:
                in_force = [v for v in self.hours[service] if v.valid_from <= day]
                if in_force:
                    for start, end in in_force[-1].ranges_for(day.weekday()):
                        out.append((self.local_instant(day, start), self.local_instant(day, end)))
            self._intervals[key] = out
        return self._intervals[key]

    def business_us_between(self, service: str, t0: dt.datetime, t1: dt.datetime) -> int:
        """Microseconds of opening time of the service inside [t0, t1]."""
        total = 0
        day = self.local_date(t0) - dt.timedelta(days=1)
        while day <= self.local_date(t1):
            for start, end in self.intervals(service, day):
                lo, hi = max(start, t0), min(end, t1)
                if hi > lo:
                    total += _us(hi - lo)
            day += dt.timedelta(days=1)
        return total

    def business_deadline(self, service: str, t0: dt.datetime, budget_us: int) -> dt.datetime | None:
        """The instant the budget of opening time starting at t0 is used up; exactly at a closing
        time, the next opening. None when the calendar ends first."""
        remaining = budget_us
        day = self.local_date(t0) - dt.timedelta(days=1)
        while day <= self.end:
            for start, end in self.intervals(service, day):
                if end <= t0:
                    continue
                lo = max(start, t0)
                length = _us(end - lo)
                if remaining < length:
                    return lo + dt.timedelta(microseconds=remaining)
                remaining -= length
            day += dt.timedelta(days=1)
        return None


def version_in_force(
    commitments: list[Commitment], commitment_id: str, service: str, all_services: list[str], day: dt.date
) -> Commitment | None:
    """The version of ``commitment_id`` in force on local date ``day`` that covers ``service``."""
    for c in commitments:
        if c.id != commitment_id or day < c.valid_from or (c.valid_to is not None and day >= c.valid_to):
            continue
        scope = all_services if c.services == "all" else c.services
        return c if service in scope else None
    return None


def evaluate(
    cal: ReferenceCalendar,
    commitment: Commitment,
    service: str,
    received_at: dt.datetime,
    responded_at: dt.datetime | None,
    as_of: dt.datetime,
) -> Evaluation:
    """One request against one commitment version with a target in a calendar or business unit."""
    assert commitment.target is not None and commitment.target.unit != "seconds"
    unit, value = commitment.target.unit, commitment.target.value
    if responded_at is not None and responded_at >= as_of:
        responded_at = None  # not known that night
    measured = responded_at or as_of
    received_on = cal.local_date(received_at)

    if unit in DAY_UNITS:
        day0 = cal.next_counting(service, received_on, unit)
        # a date that does not count is read as the next day that counts
        last = cal.next_counting(service, max(cal.local_date(measured), day0), unit)
        elapsed_days, day = 0, day0
        while day < last:
            day += dt.timedelta(days=1)
            elapsed_days += cal.counts(service, day, unit)
        elapsed = elapsed_days / 7 if unit == "weeks" else float(elapsed_days)
        due_day, n = day0, math.floor(value * (7 if unit == "weeks" else 1))
        while n > 0:
            due_day += dt.timedelta(days=1)
            n -= cal.counts(service, due_day, unit)
        deadline = cal.local_instant(due_day, 24 * 60) - dt.timedelta(seconds=1)  # 23:59:59 local
        within = elapsed <= value
    else:
        elapsed_us = cal.business_us_between(service, received_at, measured)
        budget_us = round(value * _US_PER[unit])
        elapsed = elapsed_us / _US_PER[unit]
        deadline = cal.business_deadline(service, received_at, budget_us)
        within = elapsed_us <= budget_us

    if responded_at is not None and responded_at < received_at:
        status, elapsed = "excluded", None
    elif responded_at is not None:
        status = "met" if within else "missed"
    else:
        status = "pending" if within else "overdue"
    counted_on = cal.local_date(deadline) if deadline is not None else received_on
    return Evaluation(elapsed, deadline, status, counted_on)
