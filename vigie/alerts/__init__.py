"""Alerts v1: one digest per service head with what is new since the last run.

``run_alerts(cfg, day)``:
1. reads the marts as of the night (refusing marts built for another night);
2. reads what the alert rules in dbt decided (intermediate.int_alert_candidates, through
   vigie.alerts.collect): late requests (always sent), breached periods (held back while their
   period lacks data, then sent once), recoveries, and for the data team the incomplete source
   days and the breaches held back; drops the keys already in ``alerts.alert_log``;
3. groups what is left into one digest per head (vigie.alerts.digest), renders it in French
   (or English), HTML with inline charts + plain text;
4. per digest: delivers it (SMTP when ``outputs.smtp_connection_id`` is set, else an .eml in
   the outbox), THEN records its keys in one transaction.

Channels (vigie.alerts.deliver): SMTP or outbox, plus a JSON webhook when
``alerts.webhook_connection_id`` is set. Old periods: rows older than ``alerts.max_age_days``
are sent only when asked, ``run_alerts(..., send_old=True)`` or the environment variable
``VIGIE_SEND_OLD_ALERTS=1`` (a deliberate backfill of alerts; nothing else changes).

Deliver-then-record (DECISIONLOG, DECISIONLOG.md): a crash between the
two leaves the keys unrecorded, so the next run rebuilds the very same digest (same keys, same
digest id): the outbox finds the file already there and writes nothing; SMTP sends it again
with the same Message-ID. A head may see a duplicate after a crash, never a silent loss.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field

from vigie.config import VigieConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertsResult:
    day: dt.date
    delivery: str  # 'smtp' | 'outbox'
    digests: int  # digests delivered by this run
    new_alerts: int  # alert rows recorded by this run
    already_sent: int  # candidate rows skipped because their key was in the log
    breaches: int
    overdue: int
    missed: int
    recovered: int = 0  # "de nouveau dans l'engagement" notes
    incomplete: int = 0  # incomplete source days told to the data team
    withheld: int = 0  # breaches held back tonight because their period lacks data (items never are)
    withheld_told: int = 0  # held-back breaches told to the data team by this run (once each)
    outbox_files: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    seconds: float = 0.0


SEND_OLD_ENV = "VIGIE_SEND_OLD_ALERTS"


def send_old_requested() -> bool:
    """VIGIE_SEND_OLD_ALERTS=1|true|yes: lift alerts.max_age_days for this process."""
    return os.environ.get(SEND_OLD_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def run_alerts(cfg: VigieConfig, day: dt.date, *, send_old: bool | None = None) -> AlertsResult:
    import duckdb

    from vigie.alerts.alert_log import already_sent, ensure_alert_log, record_digest
    from vigie.alerts.collect import (
        BREACH,
        INCOMPLETE,
        NOTICE_KINDS,
        RECOVERED,
        WITHHELD,
        check_marts_as_of,
        collect,
        count_withheld,
        earlier_items,
        load_trends,
        oldest_day,
    )
    from vigie.alerts.deliver import channels_for, deliver
    from vigie.alerts.digest import group_digests, render_digest

    started = time.perf_counter()
    channels = channels_for(cfg)  # fail on a broken connection before any work
    delivery = channels.delivery
    oldest = oldest_day(cfg, day, send_old_requested() if send_old is None else send_old)

    warehouse = cfg.path(cfg.outputs.warehouse)
    if not warehouse.is_file():  # connect() would create an empty warehouse
        raise FileNotFoundError(f"warehouse {warehouse} does not exist: run the transform for {day} first")
    con = duckdb.connect(str(warehouse))
    try:
        ensure_alert_log(con)
        check_marts_as_of(con, cfg, day)
        candidates = collect(con, cfg, day, oldest=oldest)
        withheld = count_withheld(con, cfg, day, oldest=oldest)
        sent = already_sent(con, (a.key for a in candidates))
        new = [a for a in candidates if a.key not in sent]
        earlier = earlier_items(con, [a for a in new if a.kind == BREACH])
        digests = group_digests(cfg, new)
        files: list[str] = []
        recipients: list[str] = []
        for digest in digests:
            trends = {}
            for code in digest.service_codes:
                ids = sorted({a.commitment_id for a in digest.alerts
                              if a.service_code == code and a.kind not in NOTICE_KINDS})
                trends[code] = load_trends(con, day, code, ids)
            rendered = render_digest(cfg, day, digest, trends, earlier=earlier)
            path = deliver(channels, day, digest.digest_id, rendered.message, rendered.subject, rendered.text)
            if path:
                files.append(path)
            record_digest(
                con,
                list(digest.alerts),
                night_day=day,
                digest_id=digest.digest_id,
                recipients=digest.recipients,
                delivery=delivery,
                sent_at=dt.datetime.now(dt.UTC),
            )
            recipients.append(digest.recipients)
    finally:
        con.close()
    result = AlertsResult(
        day=day,
        delivery=delivery,
        digests=len(digests),
        new_alerts=len(new),
        already_sent=len(sent),
        breaches=sum(1 for a in new if a.kind == BREACH),
        overdue=sum(1 for a in new if a.kind == "overdue"),
        missed=sum(1 for a in new if a.kind == "missed"),
        recovered=sum(1 for a in new if a.kind == RECOVERED),
        incomplete=sum(1 for a in new if a.kind == INCOMPLETE),
        withheld=withheld,
        withheld_told=sum(1 for a in new if a.kind == WITHHELD),
        outbox_files=files,
        recipients=recipients,
        seconds=time.perf_counter() - started,
    )
    log.info(
        "alerts %s: %d digest(s), %d new alert(s), %d already sent (%.1f s)",
        day, result.digests, result.new_alerts, result.already_sent, result.seconds,
    )
    return result


__all__ = ["AlertsResult", "run_alerts", "send_old_requested"]
