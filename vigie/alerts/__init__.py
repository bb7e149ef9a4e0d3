"""Alerts v1: one digest per service head with what is new since the last run.

``run_alerts(cfg, day)``:
1. reads the marts as of the night (refusing marts built for another night);
2. collects breached commitments and missed/overdue items (vigie.alerts.collect), each with a
   stable alert key, and drops the keys already in ``alerts.alert_log``;
3. groups what is left into one digest per head (vigie.alerts.digest), renders it in French
   (or English), HTML with inline charts + plain text;
4. per digest: delivers it (SMTP when ``outputs.smtp_connection_id`` is set, else an .eml in
   the outbox), THEN records its keys in one transaction.

Deliver-then-record (DECISIONLOG, docs/decisions/checks-alerts-publish.md): a crash between the
two leaves the keys unrecorded, so the next run rebuilds the very same digest (same keys, same
digest id): the outbox finds the file already there and writes nothing; SMTP sends it again
with the same Message-ID. A head may see a duplicate after a crash, never a silent loss.
"""

from __future__ import annotations

import datetime as dt
import logging
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
    outbox_files: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_alerts(cfg: VigieConfig, day: dt.date) -> AlertsResult:
    import duckdb

    from vigie.alerts.alert_log import already_sent, ensure_alert_log, record_digest
    from vigie.alerts.collect import BREACH, check_marts_as_of, collect, load_trends
    from vigie.alerts.digest import group_digests, render_digest

    started = time.perf_counter()
    delivery = "smtp" if cfg.outputs.smtp_connection_id else "outbox"
    smtp_settings = None
    if delivery == "smtp":
        from connectors.outbound.smtp import settings_for

        smtp_settings = settings_for(cfg.outputs.smtp_connection_id)  # fail before any work

    warehouse = cfg.path(cfg.outputs.warehouse)
    if not warehouse.is_file():  # connect() would create an empty warehouse
        raise FileNotFoundError(f"warehouse {warehouse} does not exist: run the transform for {day} first")
    con = duckdb.connect(str(warehouse))
    try:
        ensure_alert_log(con)
        check_marts_as_of(con, cfg, day)
        candidates = collect(con, cfg, day)
        sent = already_sent(con, (a.key for a in candidates))
        new = [a for a in candidates if a.key not in sent]
        digests = group_digests(cfg, new)
        files: list[str] = []
        recipients: list[str] = []
        for digest in digests:
            trends = {}
            for code in digest.service_codes:
                ids = sorted({a.commitment_id for a in digest.alerts if a.service_code == code})
                trends[code] = load_trends(con, day, code, ids)
            rendered = render_digest(cfg, day, digest, trends)
            if delivery == "smtp":
                from connectors.outbound.smtp import send_message

                assert smtp_settings is not None
                send_message(smtp_settings, rendered.message)
            else:
                from connectors.outbound.outbox import write_eml

                path, written = write_eml(cfg.path(cfg.outputs.outbox), day, digest.digest_id, rendered.message)
                files.append(str(path))
                if not written:
                    log.warning("digest %s was already in the outbox (earlier run stopped before recording)", path)
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
        outbox_files=files,
        recipients=recipients,
        seconds=time.perf_counter() - started,
    )
    log.info(
        "alerts %s: %d digest(s), %d new alert(s), %d already sent (%.1f s)",
        day, result.digests, result.new_alerts, result.already_sent, result.seconds,
    )
    return result


__all__ = ["AlertsResult", "run_alerts"]
