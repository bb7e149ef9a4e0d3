"""Month-by-month bar charts as inline SVG, described in words for screen readers.

Why SVG by hand rather than matplotlib's: the page must work offline and on a phone, with real
text in the chart and a ``<title>`` and ``<desc>`` that state every figure; a dozen bars, a
dashed threshold line and their labels are a few lines of markup that scale with the page
(``viewBox``), print sharply in the PDF (WeasyPrint draws SVG) and weigh about 2 kB each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vigie.results import wording

HEIGHT = 210
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 24, 42  # plot margins (axis labels, value labels, months)
SLOT, MIN_WIDTH = 60, 330  # width per month, and the least width: the chart is drawn to scale


@dataclass(frozen=True)
class Bar:
    label: str  # 'sept.'
    x: float
    width: float
    y: float | None  # None: no bar (small cell or no request)
    height: float
    value_text: str  # '84,6 %', 'moins de 5', '–'
    kept: bool | None
    label_y: float = 0.0  # baseline of the value label
    label_inside: bool = False  # white on the bar (tall bars), else above it


@dataclass(frozen=True)
class Chart:
    title: str
    desc: str
    bars: list[Bar]
    threshold_y: float
    threshold_text: str
    grid: list[tuple[float, str]]  # (y, '50 %')
    width: int
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = HEIGHT - BOTTOM

    @property
    def right(self) -> int:
        return self.width - RIGHT


def month_chart(title: str, months: list[dt.date], figures: dict[dt.date, tuple[int, int]],
                threshold: float, min_requests: int, channel: str) -> Chart:
    """One bar per month of ``months``: met / decided from ``figures`` (a month missing from it
    had no request decided), the threshold as a dashed line. The description names every
    month's value in words, small cells included."""
    width = max(MIN_WIDTH, LEFT + RIGHT + SLOT * len(months))
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(months), 1)
    bar_w = min(slot * 0.8, 50)  # wide enough for '84,6 %' inside the bar

    def y_of(share: float) -> float:
        return TOP + plot_h * (1 - share)

    bars, said = [], []
    for i, m in enumerate(months):
        met, decided = figures.get(m, (0, 0))
        x = LEFT + slot * i + (slot - bar_w) / 2
        label = wording.short_month(m)
        if decided == 0:
            bars.append(Bar(label, x, bar_w, None, 0, "\u2013", None))
            said.append(f"{wording.month_name(m)} : aucune demande échue")
        elif wording.is_small(decided, min_requests):
            text = f"moins de {min_requests}"
            bars.append(Bar(label, x, bar_w, None, 0, text, None))
            said.append(f"{wording.month_name(m)} : {wording.small_cell(min_requests, channel)}, taux non publié")
        else:
            share = met / decided
            text = wording.rate_pct(met, decided, threshold)
            top, height = y_of(share), plot_h * share
            inside = height >= 34
            label_y = top + 19 if inside else top - 5
            if inside and top - 2 <= y_of(threshold) <= top + 24 and y_of(threshold) + 19 <= top + height - 4:
                label_y = y_of(threshold) + 19  # under the dashed line, not crossed by it
            bars.append(Bar(label, x, bar_w, top, height, text, share >= threshold, label_y, inside))
            said.append(f"{wording.month_name(m)} : {text}")
    threshold_text = wording.pct(threshold)
    said[0] = said[0][:1].upper() + said[0][1:]
    desc = (f"Taux mois par mois, engagement à {threshold_text}. " + " ; ".join(said) + ".")
    grid = [(y_of(v), wording.pct(v)) for v in (0.0, 0.5, 1.0)]
    return Chart(title=title, desc=desc.replace(" :", "\u00a0:").replace(" ;", "\u00a0;"),
                 bars=bars, threshold_y=y_of(threshold), threshold_text=threshold_text, grid=grid,
                 width=int(width))
