"""The year's record for audits (issue 15 item 2): ``rapport.html`` (print CSS) and ``rapport.pdf``.

Per commitment and service: the month-by-month rate against the threshold, the breaches and
when they recovered, the volumes, the exclusions and their reasons, the data-quality incidents
(periods marked incomplete) and the commitment versions in force (what changed and when).

Why only the ``history`` schema (vigie/history.py): the marts are rebuilt from what is landed,
and landed batches are purged after ``retention.landed_days``; the history keeps every final
period, so the record of a year is the same before and after the purge. Read from the BI
snapshot's copy (vigie/publish.py), as the public page is: published only after a night's checks
passed, and readable while a night writes the warehouse. Every rule
is read, never recomputed: breached = ``is_breached`` (marts.service_indicators), back within
commitment = ``is_recovery`` (the alert rules, int_alert_candidates), incomplete =
``is_complete``. Only aggregates; a rate decided on fewer than ``publication.min_requests``
requests reads "moins de 5" (vigie/results/wording.py, the one small-cell rule).
DECISIONLOG Part 6, "The year's record for audits (issue 15)".
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

import duckdb

from vigie.alerts.render import Texts
from vigie.config import VigieConfig
from vigie.results import wording
from vigie.results.figures import ResultsUnavailable, next_month, open_snapshot, snapshot_path
from vigie.results.render import html_to_pdf, render, write_text_atomic

if TYPE_CHECKING:
    from vigie.alerts.collect import Alert

CHANNEL_NAMES = {"email": "Courriels", "phone": "Téléphone", "online": "Demandes en ligne",
                 "letter": "Courriers", "counter": "Guichet", "other": "Autres demandes"}
# Why a request is left out of the commitments (int_requests_unioned.exclusion_reason)
EXCLUSION_REASONS = {
    "short_abandon": "appel raccroché dans les premières secondes",
    "out_of_hours": "appel hors des heures d'ouverture",
    "auto_reply": "réponse automatique",
    "bounce": "avis de non-remise",
    "spam": "courriel indésirable",
    "mailing_list": "liste de diffusion",
    "internal_sender": "expéditeur interne à la collectivité",
    "glpi_ticket_reply": "réponse à un ticket déjà ouvert",
    "response_before_receipt": "réponse antérieure à la réception",
}
CHANGED_FIELDS = (("label", "libellé"), ("target_label", "délai"), ("threshold", "seuil"),
                  ("min_volume", "volume minimal"), ("service_codes", "services"),
                  ("request_kind", "type de demande"))


class AuditRecordUnavailable(ResultsUnavailable):
    """No history for the year in the BI snapshot: the message says what to do."""


@dataclass(frozen=True)
class MonthLine:
    month: dt.date
    decided: str  # "6", "moins de 5", "—"
    met: str
    rate: str
    threshold: str
    verdict: str
    complete: bool | None  # None: no row recorded
    kind: str = ""  # kept, breached, unjudged ('' without a row)


@dataclass(frozen=True)
class BreachLine:
    grain: str
    period: str
    rate: str
    recovery: str
    complete: bool


@dataclass(frozen=True)
class VersionLine:
    valid: str
    target: str
    threshold: str
    min_volume: str
    services: str
    change: str


@dataclass
class CommitmentRecord:
    commitment_id: str
    label: str
    service_code: str
    service_name: str
    channel: str
    months: list[MonthLine] = field(default_factory=list)
    breaches: list[BreachLine] = field(default_factory=list)
    versions: list[VersionLine] = field(default_factory=list)

    def count(self, kind: str) -> int:
        """Months of the year that are kept, breached, unjudged (under min_volume) or incomplete."""
        if kind == "incomplete":
            return sum(m.complete is False for m in self.months)
        return sum(m.kind == kind for m in self.months)


@dataclass
class VolumeRecord:
    service_code: str
    service_name: str
    channel: str
    months: list[tuple[dt.date, int, int, str]] = field(default_factory=list)  # received, excluded, reasons
    reasons: list[tuple[str, int]] = field(default_factory=list)  # the year's, by reason
    received: int = 0
    excluded: int = 0


@dataclass
class AuditRecord:
    collectivite: str
    year: int
    recorded_until: dt.date
    min_requests: int
    breach_grains: list[str]
    commitments: list[CommitmentRecord]
    volumes: list[VolumeRecord]
    incidents: list[tuple[str, str, str]]  # (service and channel, period, note)


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> Any:
    row = con.execute(sql, params).fetchone()
    return row[0] if row else None


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(_one(con, "select count(*) from duckdb_tables() where schema_name = 'history' "
                          "and table_name = ?", [table]))


def _alphabetical(name: str) -> str:
    """Sort key of a French name: État civil among the E, not after Urbanisme."""
    return unicodedata.normalize("NFD", name).encode("ascii", "ignore").decode().casefold()


def _period(texts: Texts, grain: str, start: dt.date, end: dt.date) -> str:
    # Texts.period reads only an alert's grain and dates: the digests' wording of a period
    return texts.period(cast("Alert", SimpleNamespace(period_grain=grain, period_start=start, period_end=end)))


def _rate(row: dict, small: int) -> str:
    """'50 %' (3 sur 6), or the small-cell wording: never a rate on fewer than ``small``."""
    decided = row["denominator"] or 0
    if decided == 0:
        return "aucune demande jugée"
    if wording.is_small(decided, small):
        return f"moins de {small}"
    return wording.rate_pct(row["numerator"], decided, row["threshold"])


def _rate_with_counts(row: dict, small: int) -> str:
    decided = row["denominator"] or 0
    if decided == 0 or wording.is_small(decided, small):
        return f"moins de {small} demandes jugées" if decided else "aucune demande jugée"
    return f"{_rate(row, small)} ({row['numerator']} sur {decided})"


def _verdict(row: dict) -> tuple[str, str]:
    """(kind, words): breached as the marts judged it; under min_volume nothing is judged."""
    if row["is_breached"]:
        return "breached", "manquement"
    if (row["denominator"] or 0) < (row["min_volume"] or 0):
        return "unjudged", f"non jugé (moins de {row['min_volume']} demandes)"
    return "kept", "dans l'engagement"


def _month_lines(rows: list[dict], year: int, small: int) -> list[MonthLine]:
    by_month = {r["period_start"]: r for r in rows if r["period_grain"] == "month"}
    lines = []
    for m in range(1, 13):
        month = dt.date(year, m, 1)
        r = by_month.get(month)
        if r is None:
            lines.append(MonthLine(month, "—", "—", "—", "—", "aucune donnée enregistrée", None))
            continue
        decided = r["denominator"] or 0
        hidden = decided > 0 and wording.is_small(decided, small)
        lines.append(MonthLine(
            month=month,
            decided=f"moins de {small}" if hidden else str(decided),
            met="—" if hidden else str(r["numerator"]),
            rate=_rate(r, small),
            threshold=wording.pct(r["threshold"]) if r["threshold"] is not None else "—",
            verdict=_verdict(r)[1],
            complete=bool(r["is_complete"]),
            kind=_verdict(r)[0],
        ))
    return lines


def _next_end(grain: str, start: dt.date) -> dt.date:
    """The exclusive end of the period of ``grain`` starting at ``start``."""
    if grain == "month":
        return next_month(start)
    return start + dt.timedelta(days=7 if grain == "week" else 1)


def _breach_lines(rows: list[dict], grains: list[str], year: int, small: int, texts: Texts,
                  night: dt.date) -> list[BreachLine]:
    """Runs of consecutive breached final periods (per grain) and the period that ended each:
    the one the alert rules mark ``is_recovery`` right after the run's last breach."""
    lines: list[BreachLine] = []
    for grain in ("day", "week", "month"):
        if grain not in grains:
            continue
        periods = sorted((r for r in rows if r["period_grain"] == grain), key=lambda r: r["period_start"])
        by_start = {r["period_start"]: r for r in periods}
        run: list[dict] = []
        for r in periods:
            if not r["is_breached"]:
                continue
            run.append(r)
            nxt = by_start.get(r["period_end"])
            if nxt is not None and nxt["is_breached"]:
                continue  # the run goes on
            first, last = run[0], run[-1]
            if first["period_start"].year == year:
                period = _period(texts, grain, first["period_start"], last["period_end"]) if len(run) == 1 else (
                    f"de la {_period(texts, grain, first['period_start'], first['period_end'])} "
                    f"à la {_period(texts, grain, last['period_start'], last['period_end'])}"
                    if grain != "month" else
                    f"de {wording.month_name(first['period_start'])} à {wording.month_name(last['period_start'])}")
                rates = " ; ".join(_rate_with_counts(x, small) for x in run)
                if nxt is not None and nxt.get("is_recovery"):
                    recovery = (f"de nouveau dans l'engagement : {_period(texts, grain, nxt['period_start'], nxt['period_end'])}, "
                                f"{_rate_with_counts(nxt, small)} pour un seuil de {wording.pct(nxt['threshold'])}")
                elif nxt is not None and nxt.get("is_recovery") is None:
                    recovery = ("retour non enregistré : la période suivante a été figée dans l'historique "
                                "avant que Vigie n'y garde les retours dans l'engagement")
                elif nxt is None and _next_end(grain, last["period_end"]) > night + dt.timedelta(days=1):
                    recovery = "période suivante pas encore terminée"
                elif nxt is None:
                    recovery = "pas de retour constaté : aucune demande jugée la période suivante"
                elif not nxt["is_complete"]:
                    recovery = "pas de retour constaté : période suivante aux données incomplètes"
                elif (nxt["denominator"] or 0) < (nxt["min_volume"] or 0):
                    recovery = f"pas de retour constaté : période suivante sous le volume minimal ({nxt['min_volume']})"
                else:
                    recovery = "pas de retour constaté"
                lines.append(BreachLine(grain, period, rates, recovery, all(x["is_complete"] for x in run)))
            run = []
    return lines


def _version_lines(versions: list[dict]) -> list[VersionLine]:
    """Versions in force during the year, oldest first, each with what changed from the one
    before; a description edited in place (same version, other values) is said with its nights."""
    latest: dict[dt.date, dict] = {}
    edits: dict[dt.date, list[dict]] = {}
    for v in sorted(versions, key=lambda v: (v["commitment_version"], v["last_recorded_on"])):
        if v["commitment_version"] in latest:
            edits.setdefault(v["commitment_version"], []).append(latest[v["commitment_version"]])
        latest[v["commitment_version"]] = v
    lines: list[VersionLine] = []
    previous: dict | None = None
    for start in sorted(latest):
        v = latest[start]
        valid = (f"du {wording.long_date(v['valid_from'])}" if v["valid_from"] > dt.date(2000, 1, 1)
                 else "depuis l'origine")
        if v["valid_to"] is not None:
            valid += f" au {wording.long_date(v['valid_to'] - dt.timedelta(days=1))}"
        changes = []
        for name, words in CHANGED_FIELDS:
            if previous is not None and previous[name] != v[name]:
                changes.append(f"{words} : {_shown(name, previous[name])} → {_shown(name, v[name])}")
        change = "; ".join(changes) if previous is not None else "première version"
        for old in edits.get(start, []):
            diffs = [f"{words} {_shown(n, old[n])}" for n, words in CHANGED_FIELDS if old[n] != v[n]]
            if diffs:
                change += (f" (modifiée dans la configuration : {', '.join(diffs)} jusqu'à la nuit du "
                           f"{wording.long_date(old['last_recorded_on'])})")
        lines.append(VersionLine(valid, v["target_label"] or "sans délai (taux)", _shown("threshold", v["threshold"]),
                                 str(v["min_volume"]), v["service_codes"] or "", change or "aucun changement"))
        previous = v
    return lines


def _shown(name: str, value: object) -> str:
    if value is None:
        return "—"
    if name == "threshold":
        return wording.pct(float(value))  # type: ignore[arg-type]
    return str(value)


def read_audit_record(cfg: VigieConfig, year: int) -> AuditRecord:
    """The year's figures from the history schema of the published BI snapshot (read-only)."""
    con = open_snapshot(cfg)
    path = snapshot_path(cfg)
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    try:
        if not _has(con, "service_indicators"):
            raise AuditRecordUnavailable(f"{path} has no history.service_indicators: no published night has "
                                         "recorded final indicators yet")
        night = _one(con, "select night from main.snapshot_info", [])
        # one month beyond the year: the period that ended a December breach
        rates = _query(con, "select * from history.service_indicators where indicator = 'compliance_rate' "
                            "and period_start >= ? and period_start < ? order by all",
                       [start, end + dt.timedelta(days=31)])
        volumes = _query(con, "select * from history.service_indicators where period_grain = 'month' "
                              "and indicator in ('requests_received', 'requests_excluded') "
                              "and period_start >= ? and period_start < ?", [start, end])
        incidents = _query(con, "select service_code, channel, period_start, period_end, "
                                "string_agg(distinct completeness_note, '; ') as notes from history.service_indicators "
                                "where period_grain = 'month' and not is_complete and period_start >= ? "
                                "and period_start < ? group by all order by all", [start, end])
        reasons = _query(con, "select * from history.exclusion_reasons where period_grain = 'month' "
                              "and period_start >= ? and period_start < ?", [start, end]) if _has(
            con, "exclusion_reasons") else []
        versions = _query(con, "select * from history.commitment_versions where valid_from < ? "
                               "and (valid_to is null or valid_to > ?)", [end, start]) if _has(
            con, "commitment_versions") else []
        recorded = _one(con, "select max(recorded_on) from history.service_indicators "
                             "where period_start >= ? and period_start < ?", [start, end])
    finally:
        con.close()
    in_year = [r for r in rates if r["period_start"] < end]
    if not in_year and not volumes:
        raise AuditRecordUnavailable(f"the history holds no final period of {year}")
    texts = Texts("fr", ZoneInfo(cfg.collectivite.timezone))
    names = {s.code: s.name for s in cfg.services}
    small = cfg.publication.min_requests
    grains: list[str] = [str(g) for g in cfg.alerts.breach_grains]

    commitments: list[CommitmentRecord] = []
    cells = sorted({(r["commitment_id"], r["service_code"], r["channel"]) for r in in_year},
                   key=lambda c: (_alphabetical(names.get(c[1], c[1] or "")), c[2], c[0]))
    for commitment_id, service, channel in cells:
        rows = [r for r in rates if (r["commitment_id"], r["service_code"], r["channel"]) == (commitment_id, service, channel)]
        own = [v for v in versions if v["commitment_id"] == commitment_id]
        label = max(own, key=lambda v: (v["valid_from"], v["last_recorded_on"]))["label"] if own else commitment_id
        commitments.append(CommitmentRecord(
            commitment_id, label, service or "", names.get(service, service or "sans service"), channel,
            months=_month_lines(rows, year, small),
            breaches=_breach_lines(rows, grains, year, small, texts, night),
            versions=_version_lines(own),
        ))

    vols: list[VolumeRecord] = []
    for service, channel in sorted({(r["service_code"], r["channel"]) for r in volumes},
                                   key=lambda c: (_alphabetical(names.get(c[0], c[0] or "")), c[1])):
        rec = VolumeRecord(service or "", names.get(service, service or "sans service"), channel)
        totals: dict[str, int] = {}
        for m in range(1, 13):
            month = dt.date(year, m, 1)
            got = {r["indicator"]: r["numerator"] for r in volumes
                   if (r["service_code"], r["channel"], r["period_start"]) == (service, channel, month)}
            why = sorted((r["exclusion_reason"], r["requests"]) for r in reasons
                         if (r["service_code"], r["channel"], r["period_start"]) == (service, channel, month))
            for reason, n in why:
                totals[reason] = totals.get(reason, 0) + n
            if got:
                rec.months.append((month, got.get("requests_received", 0), got.get("requests_excluded", 0),
                                   ", ".join(f"{EXCLUSION_REASONS.get(k, k)} : {n}" for k, n in why)))
        rec.received = sum(m[1] for m in rec.months)
        rec.excluded = sum(m[2] for m in rec.months)
        rec.reasons = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        vols.append(rec)

    # a month's rows (rates, volumes) share their notes; each note is said once
    incident_lines = [
        (f"{names.get(i['service_code'], i['service_code'] or 'sans service')} — {CHANNEL_NAMES.get(i['channel'], i['channel'])}",
         wording.month_name(i["period_start"]),
         "; ".join(sorted({n for n in (i["notes"] or "").split("; ") if n})) or "période marquée incomplète")
        for i in incidents
    ]
    return AuditRecord(cfg.collectivite.name, year, recorded, small, grains, commitments, vols, incident_lines)


def write_audit_report(cfg: VigieConfig, year: int, out_dir: Path) -> Path:
    """Write ``out_dir/rapport.html`` and ``out_dir/rapport.pdf`` for ``year``; return the PDF."""
    record = read_audit_record(cfg, year)
    html = render("rapport.html", r=record, channels=CHANNEL_NAMES, reasons=EXCLUSION_REASONS,
                  grain_names={"day": "jour", "week": "semaine", "month": "mois"})
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_dir / "rapport.html", html)
    return html_to_pdf(html, out_dir / "rapport.pdf")
