"""The inline trend chart of a digest: weekly compliance against the threshold, 12 weeks.

matplotlib with the Agg backend (no display, thread-safe enough for one task), imported here
only: it costs about a second the first time. The PNG carries no timestamp, so the same data
gives the same bytes.
"""

from __future__ import annotations

import io

from vigie.alerts.collect import TrendPoint

COLORS = ["#1f4e79", "#c0392b", "#27813e", "#8e44ad", "#d68910", "#566573"]


def trend_png(series: dict[str, list[TrendPoint]], labels: dict[str, str], title: str,
              threshold_word: str, incomplete_word: str = "") -> bytes | None:
    """PNG bytes, or None when there is no weekly point to draw.

    Weeks lacking data (is_complete false) are drawn as hollow points, with one legend entry
    ``incomplete_word``: the reader must not take a gap for a bad (or a good) week.
    """
    if not any(p.value is not None for points in series.values() for p in points):
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    fig = Figure(figsize=(6.4, 3.0), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    weeks = sorted({p.week_start for points in series.values() for p in points})
    index = {w: i for i, w in enumerate(weeks)}
    drawn_incomplete = False
    for n, (cid, points) in enumerate(sorted(series.items())):
        color = COLORS[n % len(COLORS)]
        xs = [index[p.week_start] for p in points if p.value is not None]
        ys = [p.value for p in points if p.value is not None]
        ax.plot(xs, ys, marker="o", color=color, label=labels.get(cid, cid))
        hollow = [(index[p.week_start], p.value) for p in points if p.value is not None and not p.is_complete]
        if hollow:
            ax.plot([x for x, _ in hollow], [y for _, y in hollow], linestyle="none", marker="o",
                    markersize=9, markerfacecolor="white", markeredgecolor=color,
                    label=incomplete_word if incomplete_word and not drawn_incomplete else None)
            drawn_incomplete = True
        thr = points[-1].threshold
        ax.axhline(thr, color=color, linestyle="--", linewidth=1,
                   label=f"{threshold_word} {thr:.0%}".replace(".", ","))
    ax.set_xticks(range(len(weeks)))
    ax.set_xticklabels([w.strftime("%d/%m") for w in weeks], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
