"""``vigie results``: the public page, the A4 poster and the open-data CSV of a period.

All three are made from one context (``results_context``), so the page and the poster cannot
disagree: the same sentences, rates and statuses. Only aggregates are in it: service names,
commitment labels, counts and rates; never a request reference or a citizen key.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from vigie.config import VigieConfig
from vigie.results import wording
from vigie.results.charts import month_chart
from vigie.results.figures import CommitmentFigures, Period, PeriodFigures, load_period_figures
from vigie.results.opendata import write_csv
from vigie.results.render import html_to_pdf, render, write_text_atomic

CHANNEL_NAMES = {"phone": "Téléphone", "email": "Courriels", "online": "Demandes en ligne",
                 "letter": "Courriers", "counter": "Guichet", "other": "Autres demandes"}


def _commitment(c: CommitmentFigures, months: list[dt.date], min_requests: int) -> dict[str, Any]:
    small = wording.is_small(c.decided, min_requests)
    status = wording.kept(c.met, c.decided, min_requests, c.threshold, c.min_volume)
    sentence = wording.result_sentence(c.met, c.decided, min_requests, c.channel, c.metric,
                                       c.target_label, c.threshold)
    rate_text = None if small else wording.rate_pct(c.met, c.decided, c.threshold)
    return {
        "id": f"{c.service_code}-{c.commitment_id}".lower().replace("_", "-"),
        "label": c.label,
        "reference": c.reference,
        "channel": CHANNEL_NAMES.get(c.channel, c.channel),
        "sentence": sentence,
        "rate_text": rate_text,
        # the sentence after its leading rate, which the page prints large
        "sentence_rest": sentence[len(rate_text):] if rate_text else sentence,
        "small_text": wording.small_cell(min_requests, c.channel) if small else None,
        "threshold_text": wording.pct(c.threshold),
        "counts_text": None if small else f"{c.met} sur {c.decided}",
        "kept": status,
        "incomplete": not c.is_complete,
        "chart": month_chart(c.label, months, {m.month: (m.met, m.decided) for m in c.months},
                             c.threshold, min_requests, c.channel) if len(months) > 1 else None,
    }


def results_context(cfg: VigieConfig, figures: PeriodFigures) -> dict[str, Any]:
    """Everything the page and the poster print, already worded."""
    min_requests = cfg.publication.min_requests
    months = figures.counted_months
    services: dict[str, dict[str, Any]] = {}
    for c in figures.commitments:
        s = services.setdefault(c.service_code, {"code": c.service_code.lower().replace("_", "-"),
                                                 "name": c.service_name, "items": [], "satisfaction": None})
        s["items"].append(_commitment(c, months, min_requests))
    for sat in figures.satisfaction:
        if sat.service_code not in services or sat.answered == 0:
            continue
        small = wording.is_small(sat.answered, min_requests)
        services[sat.service_code]["satisfaction"] = {
            "rate_text": None if small else wording.rate_pct(sat.satisfied, sat.answered),
            "sentence": (f"moins de {min_requests} réponses à l'enquête de satisfaction sur la période"
                         if small else
                         f"{wording.rate_pct(sat.satisfied, sat.answered)} des usagers ayant répondu à "
                         f"l'enquête de satisfaction se disent satisfaits ({sat.satisfied} sur "
                         f"{sat.answered} réponses)"),
        }
    items = [i for s in services.values() for i in s["items"]]
    period = figures.period
    partial = figures.partial_first_month
    title_period = (f"{period.start.year}" if period.kind == "year" else wording.month_name(period.start))
    return {
        "collectivite": figures.collectivite_name,
        "period_title": title_period,
        "months_text": wording.months_span(months),
        "counted_months": months,
        "in_progress": [wording.month_name(m) for m in figures.months_in_progress],
        # months of the period before Vigie's first data (or with none): one span, said once
        "missing_months": wording.months_span([m for m in period.months() if m not in months
                                               and m not in figures.months_in_progress and m <= figures.night]),
        "partial_first": (f"{wording.month_name(partial)} : mesures à partir du "
                          f"{wording.long_date(figures.first_data_day)}")
                         if partial and figures.first_data_day else None,
        "night_text": wording.long_date(figures.night),
        "night": figures.night,
        "min_requests": min_requests,
        "services": list(services.values()),
        "summary": {
            "total": len(items),
            "kept": sum(1 for i in items if i["kept"] is True),
            "missed": sum(1 for i in items if i["kept"] is False),
            "open": sum(1 for i in items if i["kept"] is None),
        },
    }


def write_results(cfg: VigieConfig, period: Period, out_dir: Path) -> list[Path]:
    """Write ``index.html``, ``affiche.pdf`` and ``resultats.csv`` (when the configuration maps
    indicators to structures) into ``out_dir``; return the paths written."""
    figures = load_period_figures(cfg, period)
    context = results_context(cfg, figures)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [write_text_atomic(out_dir / "index.html", render("resultats.html", **context))]
    written.append(html_to_pdf(render("affiche.html", **context), out_dir / "affiche.pdf"))
    if cfg.publication.structures and cfg.publication.indicators:
        written.append(write_csv(cfg, figures, out_dir / "resultats.csv"))
    return written
