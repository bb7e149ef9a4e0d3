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
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from connectors.landing_layout import CONFIRMED_FILE, FAILED_FILE, landing_root, write_marker
from vigie.alerts.collect import BREACH, INCOMPLETE, WITHHELD, Alert, alert_key, digest_id_for
from vigie.alerts.render import (
    MAX_ITEMS_PER_SECTION,
    Phrase,
    Texts,
    number,
    pct,
    plural,
    render_html,
    render_text,
)
from vigie.config import VigieConfig

log = logging.getLogger(__name__)

CHECKS = "checks"

# The data team's notice about incomplete data (issue 11 item 8): what was held back from which
# head, the likely cause, and the exact commands to rerun or confirm the night.
NOTICE_WORDS = {
    "fr": {
        "title": "Qualité des données",
        "sec_incomplete": "Journées de source incomplètes (les taux des périodes concernées sont retenus ; les demandes en retard sont envoyées quand même)",
        "sec_withheld": "Engagements manqués retenus : non envoyés aux responsables tant que la période est incomplète",
        "sec_todo": "Que faire",
        "failed_line": "{source} — {day} : l'extraction a échoué{detail}.",
        "suspect_line": "{source} — {day} : {rows:ligne reçue|lignes reçues} pour une moyenne de {mean} ce jour de semaine (probabilité {p}) : probablement une source en panne ou en retard.",
        "withheld_line": "Retenu pour {head} ({service}) : {line} Cause : {reason}.",
        "rerun": "Si la source {source} a rattrapé son retard pour le {day} : {command}",
        "confirm": "Si le {day} était réellement calme pour {source} : {command}",
        "then": "Ce qui était retenu est envoyé une seule fois, la nuit où la période est complète.",
        "p_tiny": "inférieure à 0,01 %",
        "data_team": "l'équipe données",
    },
    "en": {
        "title": "Data quality",
        "sec_incomplete": "Incomplete source days (the rates of the periods concerned are held back; late requests are sent anyway)",
        "sec_withheld": "Commitment misses held back: not sent to heads while the period is incomplete",
        "sec_todo": "What to do",
        "failed_line": "{source} — {day}: the extract failed{detail}.",
        "suspect_line": "{source} — {day}: {rows:row landed|rows landed} against a mean of {mean} on that weekday (probability {p}): probably a source down or late.",
        "withheld_line": "Held back from {head} ({service}): {line} Cause: {reason}.",
        "rerun": "If source {source} has caught up for {day}: {command}",
        "confirm": "If {day} really was quiet for {source}: {command}",
        "then": "What was held back is sent once, on the night its period is complete.",
        "p_tiny": "below 0.01%",
        "data_team": "the data team",
    },
}


def notice_title(lang: str) -> str:
    return NOTICE_WORDS[lang]["title"]


def config_arg(cfg: VigieConfig) -> str:
    """The configuration file to put in the commands: the one this process runs with."""
    import os

    return os.environ.get("VIGIE_CONFIG") or str(cfg.base_dir / "vigie.yml")


def _source_days(alerts: list[Alert]) -> list[tuple[str, dt.date]]:
    """(source id, day) of every incomplete day the notice talks about, in order."""
    found: set[tuple[str, dt.date]] = set()
    for a in alerts:
        if a.kind == INCOMPLETE and a.period_start is not None:
            found.add((a.service_code, a.period_start))
        for item in a.withheld_source_days or ():
            source, _, day = item.partition(" ")
            found.add((source, dt.date.fromisoformat(day)))
    return sorted(found, key=lambda x: (x[1], x[0]))


def notice_sections(cfg: VigieConfig, texts: Texts, day: dt.date, alerts: list[Alert],
                    labels: dict[str, str]) -> list[dict[str, Any]]:
    """The data team's notice as digest sections: incomplete source days with their likely
    cause, breaches held back and from whom, then the exact commands (rerun once the source
    caught up, or confirm the day), sources by their human name."""
    lang = texts.lang
    words = NOTICE_WORDS[lang]
    names = {s.id: s.display_name for s in cfg.sources}
    blocks: list[dict[str, Any]] = []
    incomplete = [a for a in alerts if a.kind == INCOMPLETE]
    if incomplete:
        lines = []
        for a in incomplete:
            assert a.period_start is not None
            source = names.get(a.service_code, a.source_name or a.service_code)
            when = texts.w("period_day").format(d=texts.date(a.period_start))
            if a.incomplete_reason == "failed":
                detail = f" ({a.failure_detail[:200]})" if a.failure_detail else ""
                lines.append(Phrase(words["failed_line"], lang).format(source=source, day=when, detail=detail))
            else:
                p = a.p_lower_tail or 0.0
                p_text = words["p_tiny"] if p < 0.0001 else pct(p, lang).replace(",0 %", " %")
                lines.append(Phrase(words["suspect_line"], lang).format(
                    source=source, day=when, rows=a.row_count or 0,
                    mean=number(a.baseline_median or 0.0, lang), p=p_text))
        blocks.append({"title": words["sec_incomplete"], "lines": lines, "more": ""})
    withheld = [a for a in alerts if a.kind == WITHHELD]
    if withheld:
        lines = []
        for a in withheld:
            service = cfg.service(a.service_code) if a.service_code in {s.code for s in cfg.services} else None
            head = service.head.name if service and service.head else words["data_team"]
            breach = replace(a, kind=BREACH)
            lines.append(Phrase(words["withheld_line"], lang).format(
                head=head, service=service.name if service else a.service_code,
                line=texts.line(breach, labels.get(a.commitment_id, a.commitment_id)),
                reason=a.withheld_reason or "?"))
        blocks.append({"title": words["sec_withheld"], "lines": lines, "more": ""})
    todo = []
    conf = config_arg(cfg)
    for source_id, gap_day in _source_days(alerts):
        source = names.get(source_id, source_id)
        when = texts.date(gap_day)
        rerun = (f"vigie run --config {conf} --from {gap_day.isoformat()} --to {gap_day.isoformat()}"
                 + (f" && vigie run --config {conf} --from {day.isoformat()} --to {day.isoformat()}"
                    if gap_day != day else ""))
        todo.append(Phrase(words["rerun"], lang).format(source=source, day=when, command=rerun))
        confirm = (f"vigie confirm-day --config {conf} --source {source_id} --day {gap_day.isoformat()}"
                   f" && vigie run --config {conf} --from {day.isoformat()} --to {day.isoformat()}")
        todo.append(Phrase(words["confirm"], lang).format(source=source, day=when, command=confirm))
    if todo:
        todo.append(words["then"])
        blocks.append({"title": words["sec_todo"], "lines": todo, "more": ""})
    return [{"name": words["title"], "blocks": blocks, "charts": []}]


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


def confirm_day(cfg: VigieConfig, source_id: str, day: dt.date, *, by: str | None = None,
                note: str | None = None) -> Path:
    """Record that what landed for (source, night) is all there is: ``<landing>/<source>/day=D/
    _CONFIRMED.json``, read by dbt (int_source_day_markers) so the day is complete from the next
    transform on, whatever its count or a failed-extract marker. Why a file beside the batch
    and not a table: the landing is what a rerun of the night reads, so the confirmation
    travels with it; a later successful landing of D replaces the directory (and the
    confirmation with it: the new data is judged afresh). Written atomically; idempotent."""
    import os

    info = {"source_id": source_id, "day": day.isoformat(),
            "confirmed_by": by or os.environ.get("USER") or "data team",
            "confirmed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "note": note}
    return _write_marker(cfg, source_id, day, CONFIRMED_FILE, info)


def declare_down(cfg: VigieConfig, source_id: str, day: dt.date, *, by: str | None = None,
                 note: str | None = None) -> Path:
    """Record that a source was down on night D although its extract ran (a PBX that logged
    nothing for a morning, a mailbox rule that moved mail away): the same ``_FAILED.json`` the
    extract task leaves, so the day is incomplete without statistics, as a failed extract. At a
    few requests a day a partial day is rarely improbable enough to be caught by the volume
    test: the people who know say it. A later landing of D replaces the directory (the marker
    with it); ``confirm_day`` overrides it."""
    import os

    who = by or os.environ.get("USER") or "data team"
    info = {"source_id": source_id, "day": day.isoformat(),
            "error": f"déclarée en panne par {who}" + (f" : {note}" if note else ""),
            "failed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "declared_by": who}
    return _write_marker(cfg, source_id, day, FAILED_FILE, info)


def _write_marker(cfg: VigieConfig, source_id: str, day: dt.date, name: str, info: dict[str, Any]) -> Path:
    """The marker ``name`` of (source, night), for a source the configuration knows."""
    known = {s.id for s in cfg.sources}
    if source_id not in known:
        raise ValueError(f"unknown source {source_id!r}: the configuration has {', '.join(sorted(known))}")
    return write_marker(landing_root(cfg), source_id, day, name, info)
