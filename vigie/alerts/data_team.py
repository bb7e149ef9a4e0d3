"""Tell the data team what failed when a blocking check stops the night.

A blocking failure stops publish and the service heads' alerts for the night (the checks task
raises: no asset event; ``vigie run`` skips the later DAGs). The data team must still learn
*what* failed without opening Airflow: ``notify_checks_failed`` sends one message to
``collectivite.data_team`` listing every blocking failure (suite, batch, expectation, column,
observed value) with the Data Docs path, through the same channels as the digests (SMTP or
outbox, plus the webhook).

Dedup like every alert: one key per failure and night,
sha256("checks" ␟ "data_team" ␟ "night:YYYY-MM-DD" ␟ "suite|batch|expectation|column"),
recorded in ``alerts.alert_log`` after delivery. Rerunning the same broken night sends
nothing new; a new failure the same night sends a message with that failure only; the same
failure the next night is news again (that night is blocked too).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from vigie.alerts.collect import Alert, alert_key
from vigie.alerts.digest import digest_id_for
from vigie.alerts.render import MAX_ITEMS_PER_SECTION, Texts, plural, render_html, render_text
from vigie.config import VigieConfig

log = logging.getLogger(__name__)

CHECKS = "checks"


@dataclass(frozen=True)
class NoticeResult:
    sent: bool
    failures: int
    new_failures: int
    digest_id: str | None = None
    outbox_file: str | None = None


def failure_key(day: dt.date, suite: str, batch: str, expectation: str, column: str | None) -> str:
    return alert_key(CHECKS, "data_team", f"night:{day.isoformat()}",
                     "|".join([suite, batch, expectation, column or ""]))


def _line(f: Any, lang: str) -> str:
    col = (f" colonne {f.column}" if lang == "fr" else f" column {f.column}") if f.column else ""
    sep = " : " if lang == "fr" else ": "
    return f"{f.suite} [{f.batch}] {f.expectation}{col}{sep}{f.observed}"


def render_notice(cfg: VigieConfig, day: dt.date, failures: list[Any], docs: Path | str,
                  digest_id: str, *, now: dt.datetime | None = None) -> tuple[EmailMessage, str, str]:
    """(message, subject, text) of the data team's notice; every string escaped in the HTML."""
    texts = Texts(cfg.alerts.language, cfg.tz)
    lang = texts.lang
    lines = [_line(f, lang) for f in failures]
    more = ""
    if len(lines) > MAX_ITEMS_PER_SECTION:
        more = texts.w("more").format(n=len(lines) - MAX_ITEMS_PER_SECTION)
        lines = lines[:MAX_ITEMS_PER_SECTION]
    sep = " : " if lang == "fr" else ": "
    subject = f"[Vigie] {texts.w('checks_section')}{sep}{plural(CHECKS, len(failures), lang)} ({texts.date(day)})"
    context = {
        "lang": lang,
        "subject": subject,
        "hello": texts.w("hello"),
        "intro": texts.w("checks_intro").format(night=texts.date(day), n=len(failures), docs=docs),
        "sections": [{"name": texts.w("checks_section"), "cid": "",
                      "blocks": [{"title": texts.w("sec_checks"), "lines": lines, "more": more}]}],
        "chart_alt": "",
        "footer": texts.w("footer"),
    }
    html, text = render_html(context), render_text(context)
    domain = cfg.alerts.from_address.rpartition("@")[2] or "vigie.localhost"
    team = cfg.collectivite.data_team
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr(("Vigie", cfg.alerts.from_address))
    msg["To"] = formataddr((team.name, team.email))
    msg["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = f"<{digest_id}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Vigie-Night"] = day.isoformat()
    msg["X-Vigie-Digest"] = digest_id
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg, subject, text


def notify_checks_failed(cfg: VigieConfig, day: dt.date, failures: list[Any],
                         docs: Path | str) -> NoticeResult:
    """Send the blocking failures not yet told for this night; record their keys."""
    import duckdb

    from vigie.alerts.alert_log import already_sent, ensure_alert_log, record_digest
    from vigie.alerts.deliver import channels_for, deliver

    channels = channels_for(cfg)
    keyed = [(failure_key(day, f.suite, f.batch, f.expectation, f.column), f) for f in failures]
    warehouse = cfg.path(cfg.outputs.warehouse)
    con = duckdb.connect(str(warehouse)) if warehouse.is_file() else None  # never create it
    try:
        if con is not None:
            ensure_alert_log(con)
            sent = already_sent(con, (k for k, _ in keyed))
        else:
            sent = set()
        new = [(k, f) for k, f in keyed if k not in sent]
        if not new:
            return NoticeResult(False, len(failures), 0)
        digest_id = digest_id_for([k for k, _ in new])
        message, subject, text = render_notice(cfg, day, [f for _, f in new], docs, digest_id)
        path = deliver(channels, day, digest_id, message, subject, text)
        if con is not None:
            team = cfg.collectivite.data_team
            rows = [Alert(key=k, kind=CHECKS, commitment_id=CHECKS, service_code="data_team",
                          channel="", period=f"night:{day.isoformat()}",
                          request_ref=f"{f.suite} [{f.batch}] {f.expectation}")
                    for k, f in new]
            record_digest(con, rows, night_day=day, digest_id=digest_id,
                          recipients=f"To: {team.email}", delivery=channels.delivery,
                          sent_at=dt.datetime.now(dt.UTC))
        else:
            log.warning("warehouse %s missing: checks notice %s delivered without a log entry", warehouse, digest_id)
        return NoticeResult(True, len(failures), len(new), digest_id, path)
    finally:
        if con is not None:
            con.close()
