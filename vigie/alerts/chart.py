"""The trend charts of a digest: compliance of a service's commitments against their thresholds.

What a chart must not do is contradict the text above it or hide a figure, so:
- **grain**: a section draws one chart per grain its rate lines talk about (a monthly breach
  gets a monthly chart, a weekly one a weekly chart); a section with requests only gets the
  weekly chart. Windows: 28 days, 12 weeks, 12 months, ending at the last final period.
- **span**: the title says "12 dernières semaines" only when the history covers the window;
  otherwise "depuis le 2 novembre 2026", from the first period with a figure.
- **no hidden points**: each series has its own marker shape and size (drawn largest first),
  so two commitments at the same value show as a small mark inside a larger one; a period
  lacking data is drawn hollow; a period without any decided request breaks the line.
- **legend outside the plot**, below it: it never covers low values.
- **alt text** states every figure (the plain-text part carries it too), for screen readers
  and for clients that block images.

matplotlib with the Agg backend, imported only when a chart is drawn (about a second the first
time). The PNG carries no timestamp: same data, same bytes. 560 px wide at 100 dpi, so a
client that ignores CSS shows it at 560 px; the HTML lets it shrink to a phone's width
(``max-width: 100%; height: auto``, no width attribute), and its text is sized for that.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vigie.alerts.collect import BREACH, RECOVERED, Alert, TrendPoint
from vigie.alerts.render import Texts, pct

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GRAINS = ("day", "week", "month")
WINDOWS = {"day": 28, "week": 12, "month": 12}  # periods drawn, ending at the last final one
COLORS = ["#1f4e79", "#c0392b", "#27813e", "#8e44ad", "#d68910", "#566573"]
MARKERS = ["s", "o", "^", "D", "v", "P"]
SIZES = [11.0, 7.5, 9.0, 6.0, 8.0, 5.0]  # square behind circle: both visible at one value

SHORT_MONTHS = {
    "fr": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
           "nov.", "déc."],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}  # fmt: skip


@dataclass(frozen=True)
class Chart:
    grain: str
    png: bytes
    title: str
    alt: str


def chart_grains(alerts: Iterable[Alert]) -> list[str]:
    """The grains the section's rate lines talk about, day before week before month; the
    weekly chart when the section has requests only."""
    found = {a.period_grain for a in alerts if a.kind in (BREACH, RECOVERED) and a.period_grain}
    return [g for g in GRAINS if g in found] or ["week"]


def last_final_period(grain: str, day: dt.date) -> dt.date:
    """Start of the last period of ``grain`` that has ended by the end of the night ``day``."""
    after = day + dt.timedelta(days=1)
    if grain == "day":
        return day
    if grain == "week":
        return after - dt.timedelta(days=after.weekday() + 7)
    first = after.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def step(grain: str, start: dt.date, n: int) -> dt.date:
    """``start`` moved by ``n`` periods of ``grain`` (n may be negative)."""
    if grain == "day":
        return start + dt.timedelta(days=n)
    if grain == "week":
        return start + dt.timedelta(weeks=n)
    months = start.year * 12 + start.month - 1 + n
    return dt.date(months // 12, months % 12 + 1, 1)


def short_label(grain: str, d: dt.date, lang: str, with_year: bool = False) -> str:
    """'2 nov.' / 'Nov 2' for days and weeks (the week's Monday), 'nov. 2026' for months."""
    month = SHORT_MONTHS[lang][d.month - 1]
    if grain == "month":
        return f"{month} {d.year}" if with_year else month
    return f"{d.day} {month}" if lang == "fr" else f"{month} {d.day}"


def long_date(d: dt.date, lang: str) -> str:
    """'1er novembre 2026', '2 novembre 2026' / 'November 2, 2026'."""
    from vigie.alerts.render import MONTHS

    month = MONTHS[lang][d.month - 1]
    if lang == "fr":
        return f"{'1er' if d.day == 1 else d.day} {month} {d.year}"
    return f"{month} {d.day}, {d.year}"


def section_charts(series: dict[str, list[TrendPoint]], grains: Sequence[str], labels: dict[str, str],
                   texts: Texts, day: dt.date) -> list[Chart]:
    """One chart per grain with at least one figure in its window; none otherwise."""
    out = []
    for grain in grains:
        chart = grain_chart(series, grain, labels, texts, day)
        if chart is not None:
            out.append(chart)
    return out


def grain_chart(series: dict[str, list[TrendPoint]], grain: str, labels: dict[str, str],
                texts: Texts, day: dt.date) -> Chart | None:
    """The chart of one grain: title, alt text and PNG; None without any figure to draw."""
    last = last_final_period(grain, day)
    window_start = step(grain, last, -(WINDOWS[grain] - 1))
    kept = {
        cid: sorted((p for p in points if p.grain == grain and window_start <= p.period_start <= last),
                    key=lambda p: p.period_start)
        for cid, points in sorted(series.items())
    }
    kept = {cid: pts for cid, pts in kept.items() if any(p.value is not None for p in pts)}
    if not kept:
        return None
    first = min(p.period_start for pts in kept.values() for p in pts if p.value is not None)
    periods = []
    cursor = first
    while cursor <= last:
        periods.append(cursor)
        cursor = step(grain, cursor, 1)
    title = chart_title(texts, grain, len(kept), first if first > window_start else None)
    alt = chart_alt(texts, grain, title, kept, labels)
    png = draw(kept, periods, grain, labels, texts, title)
    return Chart(grain=grain, png=png, title=title, alt=alt)


def chart_title(texts: Texts, grain: str, n_series: int, since: dt.date | None) -> str:
    """'Taux de respect de l'engagement par semaine, 12 dernières semaines', or '…, depuis le
    2 novembre 2026' when the history is shorter than the window."""
    what = texts.w("chart_rate_one" if n_series == 1 else "chart_rate_many")
    by = texts.w(f"chart_by_{grain}")
    if since is None:
        span = texts.w(f"chart_last_{grain}").format(n=WINDOWS[grain])
    elif grain == "month":
        from vigie.alerts.render import MONTHS

        span = texts.w("chart_since_month").format(m=f"{MONTHS[texts.lang][since.month - 1]} {since.year}")
    else:
        span = texts.w("chart_since").format(d=long_date(since, texts.lang))
    return f"{what} {by}, {span}"


def chart_alt(texts: Texts, grain: str, title: str, kept: dict[str, list[TrendPoint]],
              labels: dict[str, str]) -> str:
    """Every figure of the chart in words: 'Courriels — 2 nov. 80 %, 9 nov. 95 % ; seuil 90 %.'"""
    sep = " — "  # labels often hold ' : ' themselves ('Courriels : réponse sous 5 jours ouvrés')
    parts = [title + "."]
    for cid, points in kept.items():
        figures = []
        for p in points:
            when = short_label(grain, p.period_start, texts.lang, with_year=True)
            value = texts.w("chart_no_request") if p.value is None else pct(p.value, texts.lang)
            incomplete = "" if p.is_complete else f" ({texts.w('incomplete_point')})"
            figures.append(f"{when} {value}{incomplete}")
        thresholds = sorted({p.threshold for p in points})
        thr = ", ".join(pct(t, texts.lang) for t in thresholds)
        semi = " ; " if texts.lang == "fr" else "; "
        parts.append(f"{labels.get(cid, cid)}{sep}{', '.join(figures)}{semi}{texts.w('threshold')} {thr}.")
    return " ".join(parts)


def draw(kept: dict[str, list[TrendPoint]], periods: list[dt.date], grain: str,
         labels: dict[str, str], texts: Texts, title: str) -> bytes:
    """The PNG of ``figure``, without metadata that would change between runs."""
    buf = io.BytesIO()
    figure(kept, periods, grain, labels, texts, title).savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def figure(kept: dict[str, list[TrendPoint]], periods: list[dt.date], grain: str,
           labels: dict[str, str], texts: Texts, title: str) -> Figure:
    """One line per commitment over ``periods``, dashed thresholds, legend below the plot."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    lang = texts.lang
    legend_rows = len(kept) + 1
    fig = Figure(figsize=(5.6, 2.9 + 0.26 * legend_rows), dpi=100, layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    index = {p: i for i, p in enumerate(periods)}
    handles: list = []
    thresholds: dict[tuple[float, ...], list[str]] = {}
    any_incomplete = False
    for n, (cid, points) in enumerate(kept.items()):
        color, marker, size = COLORS[n % len(COLORS)], MARKERS[n % len(MARKERS)], SIZES[n % len(SIZES)]
        size *= 1.0 if len(periods) <= 14 else 0.6  # 28 daily points must not touch each other
        by_period = {p.period_start: p for p in points}
        known = [by_period[p].value if p in by_period else None for p in periods]
        ys = [math.nan if v is None else v for v in known]
        ax.plot(range(len(periods)), ys, color=color, linewidth=1.6, zorder=2 + n)
        filled = [(index[p.period_start], p.value) for p in points if p.value is not None and p.is_complete]
        hollow = [(index[p.period_start], p.value) for p in points if p.value is not None and not p.is_complete]
        common: dict[str, Any] = {"linestyle": "none", "marker": marker, "markersize": size, "markeredgecolor": color,
                  "markeredgewidth": 1.5, "zorder": 10 + n}
        if filled:
            ax.plot([x for x, _ in filled], [y for _, y in filled], markerfacecolor=color, **common)
        if hollow:
            ax.plot([x for x, _ in hollow], [y for _, y in hollow], markerfacecolor="white", **common)
            any_incomplete = True
        handles.append(Line2D([], [], color=color, marker=marker, markersize=min(size, 8),
                              markerfacecolor=color, label=labels.get(cid, cid)))
        thr = tuple(by_period[p].threshold if p in by_period else points[-1].threshold for p in periods)
        thresholds.setdefault(thr, []).append(color)
    for thr, colors in thresholds.items():
        color = colors[0] if len(colors) == 1 else "#444444"
        ax.step(range(len(periods)), thr, where="mid", color=color, linestyle="--", linewidth=1.2, zorder=1)
        values = sorted(set(thr))
        handles.append(Line2D([], [], color=color, linestyle="--",
                              label=f"{texts.w('threshold')} {', '.join(pct(v, lang) for v in values)}"))
    if any_incomplete:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7, markerfacecolor="white",
                              markeredgecolor="#444444", label=texts.w("incomplete_point")))
    every = 7 if grain == "day" else 1
    ticks = list(range(0, len(periods), every))
    ax.set_xticks(ticks)
    ax.set_xticklabels([short_label(grain, periods[i], lang, with_year=(i == 0 or periods[i].month == 1))
                        .replace(" ", "\n") if grain == "month" else short_label(grain, periods[i], lang)
                        for i in ticks], fontsize=10)
    ax.set_xlim(-0.6, len(periods) - 0.4)
    ax.set_ylim(0, 1.05)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: pct(v, lang)))
    ax.tick_params(axis="y", labelsize=10)
    what, _, span = title.partition(", ")  # the span on its own line: it never wraps mid-date
    ax.set_title(f"{what},\n{span}" if span else title, fontsize=11, loc="left")
    ax.grid(axis="y", alpha=0.3)
    fig.legend(handles=handles, loc="outside lower center", ncols=1 if len(kept) > 1 else 2,
               fontsize=10, frameon=False)
    return fig

