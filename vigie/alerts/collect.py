"""What is new to tell, read from the alert rules dbt decided (intermediate.int_alert_candidates).

The rules live in dbt (dbt_project/models/intermediate/alerts/int_alert_candidates.sql, with
unit tests): which rows exist, their stable keys, whether a breach's grain pages heads
(``alerts.breach_grains``), whether a row is recent (``alerts.max_age_days``), whether a
breach is held back for incomplete data, and to whom it goes. This module only reads them and
adds the two facts dbt cannot know: what ``alerts.alert_log`` already holds (a recovery is sent
only after its breach was), and the configuration's addresses and links (mailbox address,
GLPI ticket link, source names). Kinds:

- items ``overdue`` / ``missed``: one late request against one commitment. Items are facts:
  never held back, whatever the completeness of the data (issue 11).
- ``breach``: a final breached period. When its period is incomplete it is held back: not
  sent to the head, told to the data team once (kind ``withheld``, key ``withheld_key``), and
  sent, once, on the first night its period is complete (the source caught up and the night
  was rerun, or the data team confirmed the day: ``vigie confirm-day``).
- ``recovered``: the period after a breach that was sent, back within the commitment.
- ``incomplete``: a source day judged incomplete (failed extract, or a count improbably low
  for its weekday), for the data team.
Old rows (older than ``alerts.max_age_days``) are sent only when asked (``oldest=`` /
VIGIE_SEND_OLD_ALERTS, see vigie.alerts.run_alerts).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from typing import Any

from vigie.config import VigieConfig
from vigie.intervals import night_for_day

ITEM_KINDS = ("missed", "overdue")
BREACH = "breach"
RECOVERED = "recovered"
INCOMPLETE = "incomplete"
WITHHELD = "withheld"  # a breach held back for incomplete data, told to the data team
NOTICE_KINDS = (INCOMPLETE, WITHHELD)  # what the data team's notice is made of
DATA_QUALITY = "data_quality"  # commitment_id of incomplete notices; service_code = source id
CANDIDATES = "intermediate.int_alert_candidates"


class MartsNotForThisNight(RuntimeError):
    """The warehouse holds marts evaluated as of another instant than the night's end."""


def alert_key(commitment_id: str, service_code: str, period: str, item: str) -> str:
    """sha256 hex of the four parts joined by a unit separator (no part contains it); the same
    formula as int_alert_candidates.alert_key (its unit test pins two keys)."""
    raw = "\x1f".join([commitment_id, service_code, period, item])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def digest_id_for(keys: list[str]) -> str:
    """The id of a digest (a head's, or the data team's notice): its alert keys, hashed."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str  # overdue | missed | breach | recovered | incomplete | withheld
    commitment_id: str
    service_code: str
    channel: str
    period: str  # 'week:2026-11-09' for a period, the deadline date for an item
    request_ref: str | None = None
    # periods
    period_grain: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None  # exclusive
    numerator: int | None = None
    denominator: int | None = None
    value: float | None = None
    threshold: float | None = None
    # items
    received_at: dt.datetime | None = None
    deadline_at: dt.datetime | None = None
    responded_at: dt.datetime | None = None
    elapsed_value: float | None = None
    elapsed_unit: str | None = None
    target_value: float | None = None
    target_unit: str | None = None
    # items: how the people who handle the request find it (issue 11 item 4), local times
    request_id: str | None = None
    alert_on: dt.date | None = None  # deadline date (items), last day (periods), the day (sources)
    received_local_at: dt.datetime | None = None
    deadline_local_at: dt.datetime | None = None
    responded_local_at: dt.datetime | None = None
    mailbox: str | None = None  # the mailbox's address when configured, else its name
    ticket_number: int | None = None
    ticket_url: str | None = None  # sources[].ticket_url with the number filled in
    register_id: str | None = None
    source_name: str | None = None  # items and source days: the source's human name
    # incomplete source days (data team): service_code holds the source id
    row_count: int | None = None
    baseline_median: float | None = None  # the weekday's mean (name kept for the renderers)
    is_missing: bool | None = None
    p_lower_tail: float | None = None
    incomplete_reason: str | None = None  # failed | suspect
    failure_detail: str | None = None
    completeness_note: str | None = None
    # withheld breaches (data team): why, and the head it was held back from
    withheld_reason: str | None = None
    withheld_from: str | None = None  # the service code whose head did not get it
    withheld_source_days: tuple[str, ...] | None = None  # 'source_id YYYY-MM-DD' gap days


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
    """First date the night may send beyond what dbt's ``is_recent`` lets through: every date
    when asked (a deliberate backfill of alerts), else none (the day after the night: the age
    rule, alerts.max_age_days from ``age_counted_from``, lives in int_alert_candidates only)."""
    return dt.date(1, 1, 1) if send_old else day + dt.timedelta(days=1)


def first_night_that_may_alert(cfg: VigieConfig, newest_landed: dt.date) -> dt.date:
    """The oldest night that can still send an alert once ``newest_landed`` has landed.

    A consequence of the age rule in int_alert_candidates, not a second rule: a candidate is
    recent when ``age_counted_from - max_age_days <= alert_on <= night``, with
    ``age_counted_from >= newest_landed``; so a night before ``newest_landed - max_age_days``
    has no recent candidate. The backfill mode (vigie/runner.py) builds no such night on its
    own; its test compares the alert log with a night-by-night run."""
    return newest_landed - dt.timedelta(days=cfg.alerts.max_age_days)


# The rows the night may send: paged grains, dated up to the night and within the age window
# (is_recent, decided in dbt, or from ``oldest`` when a backfill asks for older ones).
_PAGED = """
    from intermediate.int_alert_candidates as c
    where c.is_grain_paged and c.alert_on <= ? and (c.is_recent or c.alert_on >= ?)
"""


def _findability(cfg: VigieConfig) -> tuple[dict[tuple[str, str], str], dict[str, str], dict[str, str]]:
    """(source, mailbox name) -> address; source -> ticket link template; source -> name."""
    addresses: dict[tuple[str, str], str] = {}
    links: dict[str, str] = {}
    names: dict[str, str] = {}
    for src in cfg.sources:
        names[src.id] = src.display_name
        for m in getattr(src, "mailboxes", None) or []:
            address = getattr(m, "address", None)
            if address:
                addresses[(src.id, m.name)] = address
        ticket_url = getattr(src, "ticket_url", None)
        if ticket_url:
            links[src.id] = ticket_url
    return addresses, links, names


def collect(con: Any, cfg: VigieConfig, day: dt.date, *, oldest: dt.date | None = None) -> list[Alert]:
    """Every alert row the night could send (already-sent ones are filtered by the caller):
    items, breaches of complete periods, recoveries of sent breaches, and for the data team the
    incomplete source days and the breaches held back (one ``withheld`` row each)."""
    oldest = oldest or oldest_day(cfg, day)
    addresses, links, names = _findability(cfg)
    alerts: list[Alert] = []
    for r in _rows(
        con,
        f"""
        select c.* {_PAGED}
          and (c.kind <> 'recovered' or c.previous_breach_key in (
                select alert_key from alerts.alert_log where kind = 'breach'))
        order by c.service_code, c.commitment_id, c.alert_on, c.kind, c.period, c.request_ref, c.alert_key
        """,
        [day, oldest],
    ):
        kind = r["kind"]
        source = r.get("source_id")
        alert = Alert(
            key=r["alert_key"], kind=kind, commitment_id=r["commitment_id"],
            service_code=r["service_code"], channel=r["channel"], period=r["period"],
            request_ref=r["request_ref"], period_grain=r["period_grain"],
            period_start=r["period_start"], period_end=r["period_end"],
            numerator=r["numerator"], denominator=r["denominator"], value=r["value"],
            threshold=r["threshold"], received_at=r["received_at"], deadline_at=r["deadline_at"],
            responded_at=r["responded_at"], elapsed_value=r["elapsed_value"],
            elapsed_unit=r["elapsed_unit"], target_value=r["target_value"],
            target_unit=r["target_unit"], request_id=r["request_id"], alert_on=r["alert_on"],
            received_local_at=r["received_local_at"], deadline_local_at=r["deadline_local_at"],
            responded_local_at=r["responded_local_at"],
            mailbox=addresses.get((source or "", r["mailbox"]), r["mailbox"]) if r["mailbox"] else None,
            ticket_number=r["ticket_number"],
            ticket_url=(links[source].replace("{id}", str(r["ticket_number"]))
                        if r["ticket_number"] is not None and source in links else None),
            register_id=r["register_id"],
            source_name=r["source_name"] or (names.get(source) if source else None),
            row_count=r["row_count"], baseline_median=r["baseline_mean"],
            is_missing=r["is_missing"], p_lower_tail=r["p_lower_tail"],
            incomplete_reason=r["incomplete_reason"], failure_detail=r["failure_detail"],
            completeness_note=r["completeness_note"], withheld_reason=r["withheld_reason"],
            withheld_source_days=tuple(r["withheld_source_days"] or ()) or None,
        )
        if kind == BREACH and r["is_withheld"]:
            # not for the head tonight: the data team is told once (its own key)
            alert = replace(alert, key=r["withheld_key"], kind=WITHHELD, withheld_from=r["service_code"])
        alerts.append(alert)
    return alerts


def count_withheld(con: Any, cfg: VigieConfig, day: dt.date, *, oldest: dt.date | None = None) -> int:
    """Breaches the night holds back because their period lacks data (told or not yet)."""
    oldest = oldest or oldest_day(cfg, day)
    return int(con.execute(
        f"select count(*) {_PAGED} and c.kind = 'breach' and c.is_withheld", [day, oldest]
    ).fetchone()[0])


def earlier_items(con: Any, breaches: list[Alert]) -> dict[str, int]:
    """Per breach key: late requests of its period already sent in an earlier digest (a digest
    lists each request once; the breach line says how many were told before)."""
    out: dict[str, int] = {}
    for b in breaches:
        if b.kind != BREACH or b.period_start is None or b.period_end is None:
            continue
        out[b.key] = int(con.execute(
            f"""
            select count(*) from {CANDIDATES} as c
            where c.kind in ('missed', 'overdue') and c.commitment_id = ? and c.service_code = ?
              and c.alert_on >= ? and c.alert_on < ?
              and c.alert_key in (select alert_key from alerts.alert_log)
            """,
            [b.commitment_id, b.service_code, b.period_start, b.period_end],
        ).fetchone()[0])
    return out


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
