"""Results in plain French, and the one small-cell rule (DECISIONLOG Part 9).

One sentence per commitment, built from its channel, metric and target: "84 % des courriels
ont reçu une réponse sous 5 jours ouvrés ; engagement : 90 %". A cell decided on fewer than
``publication.min_requests`` requests reads "moins de 5 demandes" and never shows its rate.
"""

from __future__ import annotations

import datetime as dt

from vigie.alerts.render import number
from vigie.percent import percent_shown

NBSP = "\u00a0"  # before % and ; in French; also between a number and its unit
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre"]
SHORT_MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
                "nov.", "déc."]

# channel -> (plural noun with its article, feminine?, counted noun for small cells)
CHANNELS = {
    "email": ("des courriels", False, "courriels"),
    "letter": ("des courriers", False, "courriers"),
    "online": ("des demandes en ligne", True, "demandes"),
    "phone": ("des appels", False, "appels"),
    "counter": ("des demandes au guichet", True, "demandes"),
    "other": ("des demandes", True, "demandes"),
}


def pct(x: float) -> str:
    """'84 %', '84,6 %': one decimal at most, a no-break space before %."""
    return f"{number(x * 100, 'fr')}{NBSP}%"


def rate_pct(met: int, decided: int, threshold: float | None = None) -> str:
    """'84,9 %' from counts, rounded as everywhere a person reads a rate (vigie/percent.py):
    with its threshold, a rate under it never reads as reaching it (1699 of 2000 under 85 %
    reads 84,9 %, not 85 %)."""
    shown = percent_shown(met / decided, threshold)
    return f"{number(shown, 'fr')}{NBSP}%"


def is_small(decided: int, min_requests: int) -> bool:
    """The one small-cell rule: fewer than min_requests decided requests -> no rate shown."""
    return decided < min_requests


def small_cell(min_requests: int, channel: str = "other") -> str:
    return f"moins de {min_requests} {CHANNELS.get(channel, CHANNELS['other'])[2]}"


def _within(target_label: str | None) -> str:
    return f" sous {target_label.replace(' ', NBSP, 1)}" if target_label else ""


def achievement(channel: str, metric: str, target_label: str | None) -> str:
    """What the rate counts, after '84 % ': 'des courriels ont reçu une réponse sous 5 jours ouvrés'."""
    noun, feminine, _ = CHANNELS.get(channel, CHANNELS["other"])
    if channel == "phone":
        return f"{noun} ont été décrochés" + (f" en moins de {target_label.replace(' ', NBSP, 1)}"
                                             if target_label else "")
    within = _within(target_label)
    if metric == "acknowledgement":
        return f"{noun} ont reçu un accusé de réception{within}"
    if metric == "resolution":
        return f"{noun} ont été traité{'e' if feminine else ''}s{within}"
    return f"{noun} ont reçu une réponse{within}"


def result_sentence(met: int, decided: int, min_requests: int, channel: str, metric: str,
                    target_label: str | None, threshold: float) -> str:
    """The plain-words result against the promise, or the small-cell wording."""
    promise = f"engagement{NBSP}: {pct(threshold)}"
    if decided == 0 or is_small(decided, min_requests):
        return (f"{small_cell(min_requests, channel).capitalize()} sur la période{NBSP}: taux non "
                f"publié{NBSP}; {promise} {achievement(channel, metric, target_label)}")
    return f"{rate_pct(met, decided, threshold)} {achievement(channel, metric, target_label)}{NBSP}; {promise}"


def kept(met: int, decided: int, min_requests: int, threshold: float, min_volume: int = 1) -> bool | None:
    """True: promise kept (rate >= threshold); False: not kept, the marts' breach rule (rate <
    threshold on at least the commitment's min_volume decided requests); None: nothing to
    conclude (a small cell, or a rate under the threshold on fewer than min_volume requests)."""
    if decided == 0 or is_small(decided, min_requests):
        return None
    if met / decided >= threshold:
        return True
    return False if decided >= min_volume else None


def month_name(d: dt.date, year: bool = True) -> str:
    return f"{MONTHS[d.month - 1]} {d.year}" if year else MONTHS[d.month - 1]


def short_month(d: dt.date) -> str:
    return SHORT_MONTHS[d.month - 1]


def long_date(d: dt.date) -> str:
    """'3 novembre 2026', '1er novembre 2026'."""
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {MONTHS[d.month - 1]} {d.year}"


def months_span(months: list[dt.date]) -> str:
    """'octobre 2026', 'de septembre à octobre 2026', 'de décembre 2025 à janvier 2026';
    months that do not follow each other are listed by runs: 'de janvier à mars 2026 et mai 2026'."""
    runs: list[list[dt.date]] = []
    for m in sorted(months):
        if runs and dt.date(runs[-1][-1].year + runs[-1][-1].month // 12, runs[-1][-1].month % 12 + 1, 1) == m:
            runs[-1].append(m)
        else:
            runs.append([m])
    texts = [_run(r[0], r[-1]) for r in runs]
    if len(texts) < 2:
        return "".join(texts)
    return ", ".join(texts[:-1]) + " et " + texts[-1]


def _run(first: dt.date, last: dt.date) -> str:
    if first == last:
        return month_name(first)
    if first.year == last.year:
        return f"de {month_name(first, year=False)} à {month_name(last)}"
    return f"de {month_name(first)} à {month_name(last)}"
