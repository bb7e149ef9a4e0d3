"""A period's figures, per service, commitment and month, read from the published BI snapshot.

Why the BI snapshot and not the warehouse: it is published only after a night's checks passed,
it can be read while a night runs (the warehouse has one writer), and it holds
``history.service_indicators``, so a year whose landed batches were purged still has its
months (DECISIONLOG Part 9 "Which months a period counts").

Month rows come from ``history.service_indicators`` first (final rows, kept after the
retention purge), then from ``marts.service_indicators`` for the keys the history does not
hold (the month in progress, or a warehouse that recorded no history yet). Rates of several
months are pooled (sum of met over sum of decided), never averaged.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from vigie.config import VigieConfig

HISTORY = "history.service_indicators"
MART = "marts.service_indicators"
INDICATORS = ("compliance_rate", "requests_received", "requests_excluded")


class ResultsUnavailable(RuntimeError):
    """No snapshot, or no month of the asked period is over: the message says what to do."""


@dataclass(frozen=True)
class Period:
    """A calendar year (``2026``) or month (``2026-10``); ``end`` is exclusive."""

    kind: str  # 'year' | 'month'
    start: dt.date
    end: dt.date

    @property
    def text(self) -> str:
        return f"{self.start:%Y}" if self.kind == "year" else f"{self.start:%Y-%m}"

    def months(self) -> list[dt.date]:
        out, m = [], self.start
        while m < self.end:
            out.append(m)
            m = next_month(m)
        return out


def next_month(d: dt.date) -> dt.date:
    return dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)


def parse_period(text: str) -> Period:
    """'2026' -> the year, '2026-10' -> the month; anything else raises ValueError."""
    if re.fullmatch(r"\d{4}", text):
        y = int(text)
        return Period("year", dt.date(y, 1, 1), dt.date(y + 1, 1, 1))
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if m and 1 <= int(m.group(2)) <= 12:
        start = dt.date(int(m.group(1)), int(m.group(2)), 1)
        return Period("month", start, next_month(start))
    raise ValueError(f"expected a year (2026) or a month (2026-10), got {text!r}")


@dataclass(frozen=True)
class MonthFigure:
    """One month of one service x channel x commitment (a compliance_rate row)."""

    month: dt.date
    met: int
    decided: int
    threshold: float | None
    min_volume: int | None
    is_breached: bool
    is_final: bool
    is_complete: bool
    completeness_note: str | None
    recorded_on: dt.date | None  # the night that wrote the history row; None: from the marts

    @property
    def rate(self) -> float | None:
        return self.met / self.decided if self.decided else None


@dataclass
class CommitmentFigures:
    """A service's record on one commitment over the period's counted months."""

    service_code: str
    service_name: str
    channel: str
    commitment_id: str
    label: str
    reference: str | None
    metric: str
    target_value: float | None
    target_unit: str | None
    target_label: str | None
    threshold: float  # the version in force at the end of the last counted month
    min_volume: int  # same version: fewer decided requests never make a breach
    months: list[MonthFigure] = field(default_factory=list)  # counted months only, in order

    @property
    def met(self) -> int:
        return sum(m.met for m in self.months)

    @property
    def decided(self) -> int:
        return sum(m.decided for m in self.months)

    @property
    def rate(self) -> float | None:
        return self.met / self.decided if self.decided else None

    @property
    def is_complete(self) -> bool:
        return all(m.is_complete for m in self.months)


@dataclass(frozen=True)
class SatisfactionFigures:
    """Survey answers of one service over the counted months (every channel and scale:
    'satisfied' is >= 80 % of the survey's scale, comparable across scales)."""

    service_code: str
    service_name: str
    surveys_sent: int
    answered: int
    satisfied: int

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.answered if self.answered else None


@dataclass
class PeriodFigures:
    period: Period
    collectivite_name: str
    night: dt.date  # the snapshot's night: "chiffres arrêtés au ..."
    counted_months: list[dt.date]  # final months of the period that hold data
    months_in_progress: list[dt.date]  # months of the period started but not over
    first_data_day: dt.date | None  # earliest local day with a request, history included
    commitments: list[CommitmentFigures]
    satisfaction: list[SatisfactionFigures]
    volumes: dict[tuple[str, str, str], int]  # (service, channel, indicator) -> count over counted months

    @property
    def partial_first_month(self) -> dt.date | None:
        """The counted month whose data starts after its first day (the site's first month)."""
        if self.first_data_day is None:
            return None
        m = self.first_data_day.replace(day=1)
        return m if m in self.counted_months and self.first_data_day > m else None


def snapshot_path(cfg: VigieConfig) -> Path:
    return cfg.path(cfg.outputs.bi_snapshot)


def open_snapshot(cfg: VigieConfig) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published BI snapshot, or ResultsUnavailable."""
    path = snapshot_path(cfg)
    if not path.is_file():
        raise ResultsUnavailable(
            f"no BI snapshot at {path} (outputs.bi_snapshot): results are read from the last "
            "published night; run a night first (vigie run --config FILE --from D --to D)"
        )
    return duckdb.connect(str(path), read_only=True)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The one value of an aggregate query (an aggregate always returns one row)."""
    row = con.execute(sql, params or []).fetchone()
    if row is None:
        raise ResultsUnavailable(f"the BI snapshot returned no row for: {sql}")
    return row[0]


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(_scalar(con, "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                        [schema, table]))


def indicator_rows(con: duckdb.DuckDBPyConnection, grain: str, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Rows of ``grain`` with ``start <= period_start < end`` of every indicator: the history's
    first, then the mart's for the keys the history lacks. Each row is a dict of the
    service_indicators columns plus ``recorded_on`` (None for a mart row)."""
    cols = ("period_grain, period_start, period_end, service_code, channel, commitment_id, indicator, "
            "numerator, denominator, value, target_value, target_unit, threshold, min_volume, "
            "is_breached, is_final, is_complete, completeness_note")
    key = "period_grain, period_start, service_code, channel, commitment_id, indicator"
    parts = []
    if _has_table(con, "history", "service_indicators"):
        parts.append(f"select {cols}, recorded_on, 0 as source_rank from {HISTORY}")
    parts.append(f"select {cols}, cast(null as date) as recorded_on, 1 as source_rank from {MART}")
    sql = f"""
        select * exclude (source_rank) from ({' union all '.join(parts)})
        where period_grain = ? and period_start >= ? and period_start < ?
        qualify row_number() over (partition by {key} order by source_rank) = 1
        order by period_start, service_code, channel, commitment_id, indicator
    """
    cur = con.execute(sql, [grain, start, end])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _commitment_versions(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    cur = con.execute("select * from marts.commitments order by commitment_id, valid_from")
    names = [d[0] for d in cur.description]
    out: dict[str, list[dict[str, Any]]] = {}
    for r in cur.fetchall():
        row = dict(zip(names, r, strict=True))
        out.setdefault(row["commitment_id"], []).append(row)
    return out


def version_on(versions: list[dict[str, Any]], day: dt.date) -> dict[str, Any]:
    """The commitment version in force on ``day`` (the latest that started by then)."""
    started = [v for v in versions if v["valid_from"] <= day]
    return started[-1] if started else versions[0]


def load_period_figures(cfg: VigieConfig, period: Period) -> PeriodFigures:
    """Every figure the public page, the poster and the open-data CSV show for ``period``."""
    con = open_snapshot(cfg)
    try:
        return _load(con, cfg, period)
    finally:
        con.close()


def _load(con: duckdb.DuckDBPyConnection, cfg: VigieConfig, period: Period) -> PeriodFigures:
    night = _scalar(con, "select max(night) from main.snapshot_info")
    names = dict(con.execute("select service_code, service_name from marts.services").fetchall())
    collectivite = _scalar(con, "select max(collectivite_name) from marts.services")
    rows = indicator_rows(con, "month", period.start, period.end)
    counted = sorted({r["period_start"] for r in rows if r["is_final"]})
    in_progress = sorted({r["period_start"] for r in rows if not r["is_final"]})
    if not counted:
        hint = (f"{period.text} has no month over yet (the last published night is {night})"
                if period.start <= night else f"{period.text} is after the last published night ({night})")
        raise ResultsUnavailable(f"nothing to publish for {period.text}: {hint}")
    first_day = _first_data_day(con)
    versions = _commitment_versions(con)
    order = {s.code: i for i, s in enumerate(cfg.services)}
    cells: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    volumes: dict[tuple[str, str, str], int] = {}
    for r in rows:
        if not r["is_final"]:
            continue
        if r["indicator"] == "compliance_rate":
            cells.setdefault((r["service_code"], r["channel"], r["commitment_id"]), []).append(r)
        else:
            k = (r["service_code"], r["channel"], r["indicator"])
            volumes[k] = volumes.get(k, 0) + int(r["value"] or 0)
    commitments = []
    for (service, channel, commitment), month_rows in cells.items():
        last = month_rows[-1]
        v = version_on(versions.get(commitment, [{}]), last["period_end"] - dt.timedelta(days=1)) \
            if commitment in versions else {}
        commitments.append(CommitmentFigures(
            service_code=service, service_name=names.get(service, service), channel=channel,
            commitment_id=commitment, label=v.get("label") or commitment, reference=v.get("reference"),
            metric=v.get("metric") or "first_response", target_value=last["target_value"],
            target_unit=last["target_unit"], target_label=v.get("target_label"),
            threshold=float(last["threshold"]), min_volume=int(last["min_volume"] or 1),
            months=[MonthFigure(
                month=r["period_start"], met=int(r["numerator"] or 0), decided=int(r["denominator"] or 0),
                threshold=r["threshold"], min_volume=r["min_volume"], is_breached=bool(r["is_breached"]),
                is_final=bool(r["is_final"]), is_complete=bool(r["is_complete"]),
                completeness_note=r["completeness_note"], recorded_on=r["recorded_on"],
            ) for r in month_rows],
        ))
    commitments.sort(key=lambda c: (order.get(c.service_code, len(order)), c.service_code,
                                    CHANNEL_ORDER.get(c.channel, 9), c.commitment_id))
    return PeriodFigures(
        period=period, collectivite_name=collectivite or cfg.collectivite.name, night=night,
        counted_months=counted, months_in_progress=in_progress, first_data_day=first_day,
        commitments=commitments, satisfaction=_satisfaction(con, counted, names, order), volumes=volumes,
    )


CHANNEL_ORDER = {"phone": 0, "email": 1, "online": 2, "letter": 3, "counter": 4, "other": 5}


def _first_data_day(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    parts = [f"select min(period_start) as d from {MART} where period_grain = 'day' "
             "and indicator = 'requests_received' and value > 0"]
    if _has_table(con, "history", "service_indicators"):
        parts.append(f"select min(period_start) from {HISTORY} where period_grain = 'day' "
                     "and indicator = 'requests_received' and value > 0")
    first: dt.date | None = _scalar(con, f"select min(d) from ({' union all '.join(parts)})")
    return first


def _satisfaction(con: duckdb.DuckDBPyConnection, months: list[dt.date], names: dict[str, str],
                  order: dict[str, int]) -> list[SatisfactionFigures]:
    """Satisfaction is in the marts only (no history): a purged month has none."""
    if not months or not _has_table(con, "marts", "satisfaction_indicators"):
        return []
    rows = con.execute(
        """
        select service_code, sum(surveys_sent), sum(surveys_answered), sum(satisfied_answers)
        from marts.satisfaction_indicators
        where period_grain = 'month' and is_final and list_contains(?, period_start)
        group by service_code
        """,
        [months],
    ).fetchall()
    out = [SatisfactionFigures(s, names.get(s, s), int(sent), int(answered), int(satisfied))
           for s, sent, answered, satisfied in rows]
    return sorted(out, key=lambda f: (order.get(f.service_code, len(order)), f.service_code))
