"""A breached commitment period said the way a service head would say it.

Why: the commitments suite used to compare ``value - threshold`` with 0, so Data Docs showed
raw float margins (``-0.20000000000000007``) with no service or period. Each compliance row
that the night checks now carries a ``finding``: empty when the period kept its commitment,
otherwise one sentence, e.g.
``Accueil — semaine du 2 novembre 2026 : 80 % (8 sur 10) pour un seuil de 90 %``.
The check is "finding is empty" (expectations.suites.commitments_suite), so the unexpected
values GX lists are these sentences.

Whether a period is breached is *not* decided here: it is the mart's ``is_breached``
(dbt_project/models/marts/service_indicators.sql, one definition). This module only words it.

Rounding: rates and thresholds as percentages with at most one decimal ("80 %", "57,1 %",
"85,5 %"). A breached rate is never shown as reaching its threshold: 89.96 % against 90 % is
written "89,9 %" (rounded down to the tenth), not "90 %" (DECISIONLOG.md Part 6).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from vigie.config import VigieConfig
from vigie.percent import percent_shown
from vigie.results.wording import MONTHS, NBSP, long_date


def percent(share: float, below: float | None = None) -> str:
    """``share`` (0.8) as "80 %" with at most one decimal, French comma.

    With ``below`` (the threshold a breached rate is under), a rate that would round up to
    the threshold or above is rounded down to the tenth instead.
    """
    text = f"{percent_shown(share, below):.1f}".removesuffix(".0").replace(".", ",")
    return f"{text}{NBSP}%"


def period_words(grain: str, start: dt.date) -> str:
    """'journée du 16 novembre 2026', 'semaine du 9 novembre 2026', 'mois de novembre 2026'."""
    if grain == "day":
        return f"journée du {long_date(start)}"
    if grain == "week":
        return f"semaine du {long_date(start)}"
    if grain == "month":
        return f"mois de {MONTHS[start.month - 1]} {start.year}"
    raise ValueError(f"unknown period grain {grain!r}: expected day, week or month")


def finding(service_name: str, grain: str, start: dt.date, numerator: int, denominator: int,
            value: float, threshold: float) -> str:
    """The sentence of one breached period."""
    return (
        f"{service_name} — {period_words(grain, start)} : {percent(value, below=threshold)}"
        f" ({numerator} sur {denominator}) pour un seuil de {percent(threshold)}"
    )


def _as_date(value: Any) -> dt.date:
    """A DuckDB DATE read through pandas (Timestamp or date) as a date."""
    return value.date() if isinstance(value, dt.datetime) else value


def add_findings(frame: Any, cfg: VigieConfig) -> Any:
    """``frame`` (compliance rows of marts.service_indicators) with a ``finding`` column."""
    names = {s.code: s.name for s in cfg.services}
    frame = frame.copy()
    frame["finding"] = [
        finding(names.get(row.service_code, row.service_code), row.period_grain,
                _as_date(row.period_start), int(row.numerator), int(row.denominator),
                float(row.value), float(row.threshold))
        if bool(row.is_breached) else None
        for row in frame.itertuples(index=False)
    ]
    frame["finding"] = frame["finding"].astype(object)
    return frame
