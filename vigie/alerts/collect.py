"""What is new to tell service heads about, read from the marts as of the night.

Two kinds of alert rows, each with a stable key (domain.md §7):
- an *item*: one request whose evaluation against one commitment is ``missed`` (answered
  late) or ``overdue`` (no answer, deadline passed), for email, online, letter, counter and
  other channels. Key = (commitment, service, local date of the deadline, request_id). The
  status is not in the key: an overdue request answered late the next day is the same alert.
  Phone calls are decided at hang-up and counted by the hundred; an unanswered call is not
  something a head can follow up, so phone misses reach them through the breached rate only.
- a *breach*: a final period (day, week or month) of a commitment whose compliance rate is
  below its threshold with at least min_volume decided requests. Key = (commitment, service,
  "grain:period_start", "breach").

Only rows whose deadline date (items) or last period day (breaches) lies within
``alerts.max_age_days`` before the night are considered: a backfill of last year must not
page anyone (unless asked: ``oldest=`` / VIGIE_SEND_OLD_ALERTS, see vigie.alerts.run_alerts).

Issue 7 additions:
- a *recovered* note: the final, complete period right after a breached period whose breach
  was sent, with its rate back at or above the threshold on at least min_volume requests.
  Key = (commitment, service, "grain:period_start", "recovered"): one short note per ended
  breach.
- an *incomplete* notice for the data team: a source's business day with no data or a volume
  far below the weekday median (intermediate.int_source_day_completeness). Key =
  ("data_quality", source_id, "day:YYYY-MM-DD", "incomplete").
- incomplete data withholds: a breach of a period with ``is_complete = false`` is never sent
  as a service miss, nor an item whose service and channel miss data on a day between its
  receipt and the night (its answer may be in the missing data). They are not recorded: once
  the data is re-landed and the night rerun, they are judged again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from vigie.config import VigieConfig
from vigie.intervals import night_for_day

ITEM_KINDS = ("missed", "overdue")
BREACH = "breach"
RECOVERED = "recovered"
INCOMPLETE = "incomplete"
DATA_QUALITY = "data_quality"  # commitment_id of incomplete notices; service_code = source id


class MartsNotForThisNight(RuntimeError):
    """The warehouse holds marts evaluated as of another instant than the night's end."""


def alert_key(commitment_id: str, service_code: str, period: str, item: str) -> str:
    """sha256 hex of the four parts joined by a unit separator (no part contains it)."""
    raw = "\x1f".join([commitment_id, service_code, period, item])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str  # 'breach' | 'missed' | 'overdue'
    commitment_id: str
    service_code: str
    channel: str
    period: str  # 'week:2026-11-09' for a breach, the deadline date for an item
    request_ref: str | None = None
    # breach
    period_grain: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None  # exclusive
    numerator: int | None = None
    denominator: int | None = None
    value: float | None = None
    threshold: float | None = None
    # item
    received_at: dt.datetime | None = None
    deadline_at: dt.datetime | None = None
    responded_at: dt.datetime | None = None
    elapsed_value: float | None = None
    elapsed_unit: str | None = None
    target_value: float | None = None
    target_unit: str | None = None
    # incomplete (data team): service_code holds the source id
    row_count: int | None = None
    baseline_median: float | None = None
    is_missing: bool | None = None


def _rows(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def check_marts_as_of(con: Any, cfg: VigieConfig, day: dt.date) -> None:
    """Refuse marts built for another night: alerts must describe the night asked for."""
    as_of = night_for_day(day, cfg.collectivite.timezone).as_of_utc
    found = {
        r[0]
        for r in con.execute(
            """
            select distinct evaluated_as_of from marts.service_indicators
            union select distinct evaluated_as_of from marts.commitment_evaluations
            """
        ).fetchall()
        if r[0] is not None
    }
    wrong = sorted(x for x in found if x != as_of)
    if wrong:
        raise MartsNotForThisNight(
            f"the marts were evaluated as of {', '.join(str(w) for w in wrong)}, not as of the end "
            f"of night {day} ({as_of.isoformat()}): run the transform for {day} before its alerts"
        )


def oldest_day(cfg: VigieConfig, day: dt.date, send_old: bool = False) -> dt.date:
    """First date whose alerts the night may send (alerts.max_age_days, or none when asked)."""
    return dt.date(1, 1, 1) if send_old else day - dt.timedelta(days=cfg.alerts.max_age_days)


GAP_FOR_ITEM = """
    exists (
        select 1 from intermediate.int_service_channel_day_gaps as g
        where g.service_code = e.service_code and g.channel = e.channel
          and g.local_date between cast(timezone(?, e.received_at) as date) and ?
    )
"""


def collect(con: Any, cfg: VigieConfig, day: dt.date, *, oldest: dt.date | None = None) -> list[Alert]:
    """Every alert row the night could send (already-sent ones are filtered by the caller)."""
    tz = cfg.collectivite.timezone
    oldest = oldest or oldest_day(cfg, day)
    versions = cfg.all_commitments()  # every version of every id, oldest first

    def target_of(commitment_id: str, received_at: dt.datetime) -> Any:
        """The target of the version that judged the request (in force on its receipt date)."""
        received_on = received_at.astimezone(cfg.tz).date()
        found = [c for c in versions if c.id == commitment_id and c.valid_from <= received_on
                 and (c.valid_to is None or received_on < c.valid_to)]
        return found[-1].target if found else None

    alerts: list[Alert] = []
    for r in _rows(
        con,
        """
        select period_grain, period_start, period_end, service_code, channel, commitment_id,
               numerator, denominator, value, threshold
        from marts.service_indicators
        where indicator = 'compliance_rate' and is_breached and is_final and is_complete
          and period_end > ? and period_end <= ? and list_contains(?, period_grain)
        order by service_code, commitment_id, period_start, period_grain
        """,
        [oldest, day + dt.timedelta(days=1), list(cfg.alerts.breach_grains)],
    ):
        period = f"{r['period_grain']}:{r['period_start'].isoformat()}"
        alerts.append(
            Alert(
                key=alert_key(r["commitment_id"], r["service_code"], period, BREACH),
                kind=BREACH,
                commitment_id=r["commitment_id"],
                service_code=r["service_code"],
                channel=r["channel"],
                period=period,
                period_grain=r["period_grain"],
                period_start=r["period_start"],
                period_end=r["period_end"],
                numerator=r["numerator"],
                denominator=r["denominator"],
                value=r["value"],
                threshold=r["threshold"],
            )
        )
    for r in _rows(
        con,
        f"""
        select request_id, request_ref, commitment_id, service_code, channel, received_at,
               deadline_at, responded_at, elapsed_value, elapsed_unit, status,
               cast(timezone(?, deadline_at) as date) as deadline_on
        from marts.commitment_evaluations as e
        where status in ('missed', 'overdue') and deadline_at is not null and channel <> 'phone'
          and cast(timezone(?, deadline_at) as date) between ? and ?
          and not {GAP_FOR_ITEM}
        order by service_code, commitment_id, deadline_at, request_ref, request_id
        """,
        [tz, tz, oldest, day, tz, day],
    ):
        target = target_of(r["commitment_id"], r["received_at"])
        period = r["deadline_on"].isoformat()
        alerts.append(
            Alert(
                key=alert_key(r["commitment_id"], r["service_code"], period, r["request_id"]),
                kind=r["status"],
                commitment_id=r["commitment_id"],
                service_code=r["service_code"],
                channel=r["channel"],
                period=period,
                request_ref=r["request_ref"],
                received_at=r["received_at"],
                deadline_at=r["deadline_at"],
                responded_at=r["responded_at"],
                elapsed_value=r["elapsed_value"],
                elapsed_unit=r["elapsed_unit"],
                target_value=target.value if target else None,
                target_unit=target.unit if target else None,
            )
        )
    alerts.extend(_recovered(con, day, oldest, list(cfg.alerts.breach_grains)))
    alerts.extend(_incomplete(con, day, oldest))
    return alerts


def _recovered(con: Any, day: dt.date, oldest: dt.date, grains: list[str]) -> list[Alert]:
    """Periods that end a breach the head was told about (its key is in alerts.alert_log), at
    the grains that page heads (``alerts.breach_grains``)."""
    out = []
    for r in _rows(
        con,
        """
        select cur.period_grain, cur.period_start, cur.period_end, cur.service_code, cur.channel,
               cur.commitment_id, cur.numerator, cur.denominator, cur.value, cur.threshold
        from marts.service_indicators as cur
        inner join marts.service_indicators as prev
            on prev.indicator = 'compliance_rate' and prev.is_breached
            and prev.commitment_id = cur.commitment_id and prev.service_code = cur.service_code
            and prev.channel = cur.channel and prev.period_grain = cur.period_grain
            and prev.period_end = cur.period_start
        where cur.indicator = 'compliance_rate' and cur.is_final and cur.is_complete
          and not cur.is_breached and cur.value >= cur.threshold and cur.denominator >= cur.min_volume
          and cur.period_end > ? and cur.period_end <= ? and list_contains(?, cur.period_grain)
          and exists (
              select 1 from alerts.alert_log as l
              where l.kind = 'breach' and l.commitment_id = prev.commitment_id
                and l.service_code = prev.service_code
                and l.period = prev.period_grain || ':' || strftime(prev.period_start, '%Y-%m-%d')
          )
        order by cur.service_code, cur.commitment_id, cur.period_start, cur.period_grain
        """,
        [oldest, day + dt.timedelta(days=1), grains],
    ):
        period = f"{r['period_grain']}:{r['period_start'].isoformat()}"
        out.append(
            Alert(
                key=alert_key(r["commitment_id"], r["service_code"], period, RECOVERED),
                kind=RECOVERED, commitment_id=r["commitment_id"], service_code=r["service_code"],
                channel=r["channel"], period=period, period_grain=r["period_grain"],
                period_start=r["period_start"], period_end=r["period_end"],
                numerator=r["numerator"], denominator=r["denominator"], value=r["value"],
                threshold=r["threshold"],
            )
        )
    return out


def _incomplete(con: Any, day: dt.date, oldest: dt.date) -> list[Alert]:
    """Source business days with no data or a volume far below the weekday median."""
    out = []
    for r in _rows(
        con,
        """
        select source_id, source_type, local_date, row_count, baseline_median, is_missing
        from intermediate.int_source_day_completeness
        where not is_complete and local_date between ? and ?
        order by source_id, local_date
        """,
        [oldest, day],
    ):
        period = f"day:{r['local_date'].isoformat()}"
        out.append(
            Alert(
                key=alert_key(DATA_QUALITY, r["source_id"], period, INCOMPLETE),
                kind=INCOMPLETE, commitment_id=DATA_QUALITY, service_code=r["source_id"],
                channel=r["source_type"], period=period, period_grain="day",
                period_start=r["local_date"], period_end=r["local_date"] + dt.timedelta(days=1),
                row_count=r["row_count"], baseline_median=r["baseline_median"],
                is_missing=r["is_missing"],
            )
        )
    return out


def count_withheld(con: Any, cfg: VigieConfig, day: dt.date, *, oldest: dt.date | None = None) -> int:
    """Breaches and items the night did not send because their data is incomplete."""
    tz = cfg.collectivite.timezone
    oldest = oldest or oldest_day(cfg, day)
    breaches = con.execute(
        """
        select count(*) from marts.service_indicators
        where indicator = 'compliance_rate' and is_breached and is_final and not is_complete
          and period_end > ? and period_end <= ? and list_contains(?, period_grain)
        """,
        [oldest, day + dt.timedelta(days=1), list(cfg.alerts.breach_grains)],
    ).fetchone()[0]
    items = con.execute(
        f"""
        select count(*) from marts.commitment_evaluations as e
        where status in ('missed', 'overdue') and deadline_at is not null and channel <> 'phone'
          and cast(timezone(?, deadline_at) as date) between ? and ?
          and {GAP_FOR_ITEM}
        """,
        [tz, oldest, day, tz, day],
    ).fetchone()[0]
    return int(breaches) + int(items)


@dataclass(frozen=True)
class TrendPoint:
    period_start: dt.date
    value: float | None
    threshold: float
    is_complete: bool = True  # drawn hollow when the period lacks data
    grain: str = "week"


def load_trends(
    con: Any, day: dt.date, service_code: str, commitment_ids: list[str], days: int = 400
) -> dict[str, list[TrendPoint]]:
    """Final compliance of each commitment for the service, every grain, over the last ``days``:
    vigie.alerts.chart draws the grain the digest's text talks about, over its own window."""
    if not commitment_ids:
        return {}
    rows = _rows(
        con,
        f"""
        select commitment_id, period_grain, period_start, value, threshold, is_complete
        from marts.service_indicators
        where indicator = 'compliance_rate' and is_final
          and service_code = ? and commitment_id in ({", ".join("?" * len(commitment_ids))})
          and period_end <= ? and period_start >= ?
        order by commitment_id, period_grain, period_start
        """,
        [service_code, *commitment_ids, day + dt.timedelta(days=1), day - dt.timedelta(days=days)],
    )
    out: dict[str, list[TrendPoint]] = {}
    for r in rows:
        out.setdefault(r["commitment_id"], []).append(
            TrendPoint(r["period_start"], r["value"], r["threshold"], bool(r["is_complete"]), r["period_grain"])
        )
    return out
