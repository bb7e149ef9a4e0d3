"""The nightly data interval, as Vigie reads it (DECISIONLOG: "The night's day").

Airflow's ``CronPartitionTimetable("0 2 * * *", run_offset=-1, key_format="%Y-%m-%d")`` in the
collectivité's zone gives the run that starts at 02:00 on D+1 the partition key ``D``. Vigie
calls D the *night's day* and works on the local calendar day D:
connectors read what was received in [D 00:00, D+1 00:00) local, and every status is evaluated
as of D+1 00:00 local (domain.md §5). The two hours between midnight and the run give late log
writers time to flush. A day, not an interval, is what the whole pipeline passes around.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

NIGHTLY_CRON = "0 2 * * *"


@dataclass(frozen=True)
class NightInterval:
    day: dt.date
    tz: zoneinfo.ZoneInfo

    @property
    def start(self) -> dt.datetime:
        """Local midnight opening the day, as an aware datetime (DST-correct)."""
        return dt.datetime.combine(self.day, dt.time(0), tzinfo=self.tz)

    @property
    def end(self) -> dt.datetime:
        """Exclusive end: local midnight of the next day (23 or 25 hours later on DST days)."""
        return dt.datetime.combine(self.day + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz)

    @property
    def start_utc(self) -> dt.datetime:
        return self.start.astimezone(dt.UTC)

    @property
    def end_utc(self) -> dt.datetime:
        return self.end.astimezone(dt.UTC)

    @property
    def as_of_utc(self) -> dt.datetime:
        """The instant statuses are evaluated at: the exclusive end of the day."""
        return self.end_utc

    @property
    def logical_date(self) -> dt.datetime:
        """Airflow logical date (= data interval start) of the nightly run for this day."""
        return dt.datetime.combine(self.day, dt.time(2), tzinfo=self.tz)


def night_for_day(day: dt.date, timezone: str) -> NightInterval:
    return NightInterval(day=day, tz=zoneinfo.ZoneInfo(timezone))


def day_from_context(context: Any, timezone: str) -> dt.date:
    """The night's day of a running task.

    Order: ``dag_run.conf["day"]`` (set by ``vigie run`` and ``vigie trigger``), then the run's
    partition key (scheduled and backfilled extract runs: the run of D+1 02:00 carries ``D``;
    ``vigie_night`` runs: the night whose families all landed), then the newest triggering asset
    event's ``extra["day"]``, then the local date of the data interval start (a run triggered
    with a logical date only).
    """
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None) or {}
    if conf.get("day"):
        return dt.date.fromisoformat(str(conf["day"]))
    partition_key = context.get("partition_key") or getattr(dag_run, "partition_key", None)
    if partition_key:
        return dt.date.fromisoformat(str(partition_key)[:10])
    events = context.get("triggering_asset_events") or {}
    days = []
    for evs in getattr(events, "values", lambda: [])():
        for ev in evs:
            extra = getattr(ev, "extra", None) or {}
            if extra.get("day"):
                days.append(dt.date.fromisoformat(extra["day"]))
    if days:
        return max(days)
    start = context.get("data_interval_start")
    if start is None:
        raise ValueError("cannot tell the night's day: no conf 'day', asset event or data interval")
    return start.astimezone(zoneinfo.ZoneInfo(timezone)).date()
