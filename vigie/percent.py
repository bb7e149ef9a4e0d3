"""How a rate is rounded wherever a person reads it (digests, Data Docs findings, results pages).

Why one module: a breached rate must never be shown as reaching its threshold. Plain rounding
shows 2 699 / 3 000 = 89.97 % under a 90 % threshold as "90 %", which a head reads as no breach.
The Data Docs findings and the digests both word breaches; they round with this one rule
(DECISIONLOG.md Part 6: "Commitments in words" and the digests' lines).
"""

from __future__ import annotations

import math


def percent_shown(share: float, below: float | None = None) -> float:
    """``share`` (0.8997) as the percentage to print, at most one decimal (89.9 or 90.0).

    With ``below`` (the threshold a breached rate is under), a rate that would round up to the
    threshold or above is rounded down to the tenth instead: 0.8997 under 0.9 gives 89.9.
    """
    x = share * 100
    shown = round(x, 1)
    if below is not None and share < below and shown >= round(below * 100, 1):
        shown = math.floor(round(x * 10, 6)) / 10
    return shown


def points_below(share: float, threshold: float) -> float:
    """How far under its threshold a breached rate is, in points, never shown as 0 (min 0.1)."""
    return max(round((threshold - share) * 100, 1), 0.1)
