"""The open-data CSV of a period's results, shaped like the Services Publics+ results
publication: one row per structure and indicator (``publication.structures`` x
``publication.indicators``), validated against ``resultats.schema.json`` (a Frictionless
Table Schema shipped beside this module).

Columns: the eight of the Services Publics+ publication (structure code, structure name, postal
code, town, indicator code, value, frequency, date of update), then ``periode`` (which year or
month the value covers: the frequency and update date alone do not say it) and
``commentaire`` (why a value is empty, which months a year in progress counts). A value is a
percentage with one decimal, rounded as on the page (vigie/percent.py); a cell decided on fewer
than ``publication.min_requests`` requests has an empty ``valeur`` and ``commentaire`` "moins de
5 demandes : valeur non publiée" (DECISIONLOG Part 9 "Small cells").
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from vigie.config import PublicationIndicator, PublicationStructure, VigieConfig
from vigie.percent import percent_shown
from vigie.results import wording
from vigie.results.figures import PeriodFigures
from vigie.results.render import write_text_atomic

SCHEMA_PATH = Path(__file__).resolve().parent / "resultats.schema.json"
COLUMNS = ("code_structure", "nom_structure", "code_postal", "commune", "code_indicateur", "valeur",
           "frequence", "date_mise_a_jour", "periode", "commentaire")


def table_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _pooled(figures: PeriodFigures, services: set[str], ind: PublicationIndicator) -> tuple[int, int, float | None]:
    """(numerator, denominator, threshold) of the indicator over the structure's services."""
    if ind.satisfaction:
        surveys = [s for s in figures.satisfaction if s.service_code in services]
        return sum(s.satisfied for s in surveys), sum(s.answered for s in surveys), None
    rows = [c for c in figures.commitments if c.commitment_id == ind.commitment and c.service_code in services]
    threshold = rows[0].threshold if rows else None
    return sum(c.met for c in rows), sum(c.decided for c in rows), threshold


def rows(cfg: VigieConfig, figures: PeriodFigures) -> list[dict[str, str]]:
    pub = cfg.publication
    frequency = "annuelle" if figures.period.kind == "year" else "mensuelle"
    counted = figures.counted_months
    partial_year = figures.period.kind == "year" and len(counted) < len(figures.period.months())
    out = []
    all_codes = {s.code for s in cfg.services}
    for st in pub.structures:
        services = all_codes if st.services == "all" else set(st.services)
        for ind in pub.indicators:
            num, den, threshold = _pooled(figures, services, ind)
            notes = []
            if den == 0:
                value = ""
                notes.append("aucune demande sur la période" if not ind.satisfaction
                             else "aucune réponse à l'enquête sur la période")
            elif wording.is_small(den, pub.min_requests):
                value = ""
                unit = "réponses" if ind.satisfaction else "demandes"
                notes.append(f"moins de {pub.min_requests} {unit} : valeur non publiée")
            else:
                value = f"{percent_shown(num / den, threshold):.1f}"
            if partial_year:
                notes.append(f"mois comptés : {wording.months_span(counted)}")
            out.append(_row(st, cfg, ind.code, value, frequency, figures, "; ".join(notes)))
    return out


def _row(st: PublicationStructure, cfg: VigieConfig, code: str, value: str, frequency: str,
         figures: PeriodFigures, note: str) -> dict[str, str]:
    return {
        "code_structure": st.code,
        "nom_structure": st.name or cfg.collectivite.name,
        "code_postal": st.postal_code,
        "commune": st.town,
        "code_indicateur": code,
        "valeur": value,
        "frequence": frequency,
        "date_mise_a_jour": figures.night.isoformat(),
        "periode": figures.period.text,
        "commentaire": note,
    }


def write_csv(cfg: VigieConfig, figures: PeriodFigures, out: Path) -> Path:
    """UTF-8 with a header, comma-separated, CRLF line ends (RFC 4180), written atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows(cfg, figures))
    return write_text_atomic(out, buf.getvalue())
