"""Run the night's checks: landed batches, mart integrity, commitments; keep the results.

``run_checks(cfg, day)`` validates, for the night's day D:
- every landed table of every enabled source's batch ``<landing>/<source_id>/day=D/``
  (a missing batch or table file is a blocking failure: the extract did not run);
- the marts' integrity (blocking) and the configured commitments over the compliance periods
  that became final with the night (warnings: a breach is a finding, not a broken run).

Every validation result is stored in the GX project (cfg.outputs.gx_project), the Data Docs
site (cfg.outputs.data_docs) is rebuilt, and a JSON summary of the night is written to
``<gx_project>/summaries/<D>.json``. Only then, if a blocking expectation failed,
``BlockingChecksFailed`` is raised, its message naming suite, batch, expectation, column and
observed value for each blocking failure.

``run_landing_checks(cfg, days)`` validates the landed batches only of several nights, in one
GX project and one Data Docs build: the nights ``vigie run --backfill`` does not build on their
own (vigie/runner.py). The batches of one source and table are validated together (one frame,
per-row night windows), and a night named by a failed blocking expectation is validated again
alone, so that each night's verdict and blocking failures are its own (DECISIONLOG Part 6, "Landing
checks of a backfill's older nights").
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from connectors.landing_layout import batch_dir, failed_extract, landing_root
from connectors.landing_schemas import REJECTS_TABLE, TABLES_BY_SOURCE_TYPE
from expectations.suites import (
    BLOCKING,
    COMMITMENTS_SUITE,
    NIGHT_COLUMN,
    P_SOURCE_ID,
    WARNING,
    WINDOW_END_COLUMN,
    WINDOW_START_COLUMN,
    SuiteSpec,
    commitments_suite,
    landing_suite,
    mart_suites,
)
from vigie.config import VigieConfig
from vigie.intervals import night_for_day

log = logging.getLogger(__name__)

# Slack around the night's window for timestamp checks: a call entering the queue at 23:59
# may log its CONNECT after midnight; clocks of source servers drift.
WINDOW_TOLERANCE = dt.timedelta(hours=2)
MAX_OBSERVED_ITEMS = 5


@dataclass(frozen=True)
class Failure:
    suite: str
    batch: str
    expectation: str
    column: str | None
    severity: str
    observed: str
    why: str = ""


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    batch: str
    success: bool
    evaluated: int
    failures: tuple[Failure, ...] = ()
    # Set when this batch passed within one validation of several nights' batches (its run name).
    validated_with: str = ""


@dataclass(frozen=True)
class ChecksResult:
    day: dt.date
    outcomes: tuple[SuiteOutcome, ...]
    summary_path: Path
    data_docs_index: Path
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    marts_checked: bool = True  # False: a backfilled night's landing only (vigie/runner.py)

    @property
    def failures(self) -> list[Failure]:
        return [f for o in self.outcomes for f in o.failures]

    @property
    def blocking(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == BLOCKING]

    @property
    def warnings(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == WARNING]

    @property
    def success(self) -> bool:
        """True when nothing blocking failed (warnings and breaches do not fail a run)."""
        return not self.blocking

    @property
    def breached_commitments(self) -> list[Failure]:
        return [f for f in self.failures if f.suite == COMMITMENTS_SUITE]


class BlockingChecksFailed(RuntimeError):
    """A blocking expectation failed: the night's numbers must not be published or alerted."""

    def __init__(self, result: ChecksResult):
        self.result = result
        lines = [
            f"- {f.suite} [{f.batch}] {f.expectation}"
            + (f" column {f.column}" if f.column else "")
            + f": observed {f.observed}"
            for f in result.blocking
        ]
        super().__init__(
            f"blocking checks failed for night {result.day} ({len(lines)} failure(s));"
            f" details in {result.summary_path} and {result.data_docs_index}\n" + "\n".join(lines)
        )


# --------------------------------------------------------------------------------------
# Frames to validate


def read_landed_table(path: Path) -> Any:
    """A landed Parquet file as a pandas frame (dtypes: expectations.suites.pandas_dtype).

    ``ParquetFile`` reads the file alone: no hive ``day`` column is inferred from the path.
    """
    import pyarrow.parquet as pq

    from expectations.suites import pandas_dtype

    return pq.ParquetFile(path).read().to_pandas(types_mapper=pandas_dtype)


def landing_frame(cfg: VigieConfig, source: Any, day: dt.date, path: Path) -> Any:
    """The landed table ``path`` of ``source``'s batch of ``day``, as the landing suites check
    it: plus the batch's night and window per row (expectations.suites.BATCH_COLUMNS)."""
    import pandas as pd

    frame = read_landed_table(path)
    start, end = _windows(cfg, source, day)
    frame[NIGHT_COLUMN] = day.isoformat()
    frame[WINDOW_START_COLUMN] = pd.Timestamp(start)
    frame[WINDOW_END_COLUMN] = pd.Timestamp(end)
    return frame


def _windows(cfg: VigieConfig, source: Any, day: dt.date) -> tuple[str, str]:
    """[start, end] of plausible timestamps in the source's batch of ``day``, ISO UTC."""
    tz = cfg.collectivite.timezone
    start_delta = dt.timedelta(0)
    if source.type == "glpi_sql":
        tz = source.timezone  # GLPI's batch is cut in GLPI's zone (docs/landing.md)
        start_delta = dt.timedelta(days=source.overlap_days)
    night = night_for_day(day, tz)
    start = night.start_utc - start_delta - WINDOW_TOLERANCE
    end = night.end_utc + WINDOW_TOLERANCE
    return start.isoformat(), end.isoformat()


def _mart_frame(con: Any, mart: str, read: set[str]) -> Any:
    """``marts.<mart>`` as its suite needs it: the values of the columns its checks read, every
    other column by name only (all null, a categorical of one byte a row).

    WHY: the suites read 3 to 5 columns of marts of 13 to 24, and their column-set check reads
    names only; at scale 10 and three years, every column of ``marts.requests`` (1.35 million
    rows) and ``marts.commitment_evaluations`` (2.7 million) read into pandas made the night's
    peak memory (4.7 GB for this step alone, docs/performance.md). Same verdicts: no check
    reads a value of the columns left empty."""
    import numpy as np
    import pandas as pd

    columns = con.sql(f'select * from marts."{mart}" limit 0').columns
    frame = _read_frame(con, f'marts."{mart}"', [c for c in columns if c in read])
    for column in columns:
        if column not in read:
            frame[column] = pd.Categorical.from_codes(
                np.full(len(frame), -1, dtype=np.int8), categories=pd.Index([], dtype=object))
    return frame


def _read_frame(con: Any, table: str, columns: list[str]) -> Any:
    """``select <columns> from <table>`` as DuckDB's ``.df()`` gives it (same dtypes, same
    values, same order), its text read through Arrow.

    WHY: ``.df()`` makes a Python string of every text value, then pandas stores them as its
    Arrow-backed ``str``: reading the checked columns of ``marts.commitment_evaluations`` at
    scale 10 and three years (2.7 million rows) peaked at 1.4 GB for a frame of 262 MB
    (docs/performance.md, "Peak memory"). pyarrow turns DuckDB's Arrow text into that same
    ``str`` dtype without them. Every other column keeps ``.df()``'s conversion (nullable
    integers, dates as datetime64), and so does a text column without a value (``.df()`` gives
    it ``object`` of None, Arrow ``str`` of NaN). The two reads are plain scans of one table:
    DuckDB keeps its insertion order (``preserve_insertion_order``, on by default), so their
    rows line up."""
    import pandas as pd

    def quoted(names: list[str]) -> str:
        return ", ".join('"' + c.replace('"', '""') + '"' for c in names)

    if not columns:
        return pd.DataFrame(index=pd.RangeIndex(con.sql(f"select count(*) from {table}").fetchall()[0][0]))
    rel = con.sql(f"select {quoted(columns)} from {table}")
    text = [c for c, t in zip(rel.columns, rel.types, strict=True) if str(t) == "VARCHAR"]
    parts: dict[str, Any] = {}
    if text:
        arrow = con.sql(f"select {quoted(text)} from {table}").to_arrow_table()
        for name in text:
            if arrow[name].null_count < len(arrow):
                parts[name] = arrow[name].to_pandas()
        del arrow
    rest = [c for c in columns if c not in parts]
    if rest:
        parts.update(con.sql(f"select {quoted(rest)} from {table}").df().items())
    return pd.DataFrame({c: parts[c] for c in columns}, copy=False)


def _marts_present(cfg: VigieConfig, day: dt.date) -> tuple[Any, str | None]:
    """(compliance rows final as of the night, error): the warehouse and every checked mart
    must exist (else nothing of the marts is validated: the error is the outcome)."""
    import duckdb

    wh = cfg.path(cfg.outputs.warehouse)
    if not wh.exists():
        return None, f"warehouse {wh} does not exist: run the transform for {day} first"
    from vigie.publish import open_warehouse_for_reading

    con = open_warehouse_for_reading(wh)
    try:
        for spec in mart_suites():
            mart = spec.name.split(".", 1)[1]
            try:
                con.sql(f'select * from marts."{mart}" limit 0')
            except duckdb.CatalogException:
                return None, f"table marts.{mart} is missing in {wh}: run the transform for {day}"
        final = con.sql(
            """
            -- is_breached and threshold are those of the commitment version that judged the
            -- row (versions under one id may differ); the suite checks each row's finding.
            select *
            from marts.service_indicators
            where indicator = 'compliance_rate' and is_final and period_end = ?
              and is_complete  -- issue 7: an incomplete period is not a business finding
            order by commitment_id, service_code, channel, period_grain, period_start
            """,
            params=[day + dt.timedelta(days=1)],
        ).df()
        from expectations.commitment_findings import add_findings

        return add_findings(final, cfg), None
    finally:
        con.close()


def _read_mart(cfg: VigieConfig, spec: SuiteSpec) -> Any:
    """The frame of ``spec``'s mart (``_mart_frame``), read on a connection of its own: closed
    before the mart is validated, it keeps no block of the warehouse cached meanwhile."""
    from vigie.publish import open_warehouse_for_reading

    con = open_warehouse_for_reading(cfg.path(cfg.outputs.warehouse))
    try:
        return _mart_frame(con, spec.name.split(".", 1)[1], spec.columns_read())
    finally:
        con.close()


# --------------------------------------------------------------------------------------
# Results


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _fmt(value: Any) -> str:
    """Rates as 0.5714 rather than 0.5714285714285714, a period start as 2026-11-09."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dt.datetime) and value.tzinfo is None and value.time() == dt.time(0):
        return value.date().isoformat()  # a DuckDB DATE read through pandas
    return str(value)


def _observed(er: Any) -> str:
    info = er.exception_info or {}
    if info.get("raised_exception"):
        return _short(f"error: {info.get('exception_message')}")
    res = er.result or {}
    if "observed_value" in res and res["observed_value"] is not None:
        return _short(res["observed_value"])
    index_rows = res.get("partial_unexpected_index_list") or []
    if index_rows and isinstance(index_rows[0], dict):
        rows = index_rows[:MAX_OBSERVED_ITEMS]
        shown = "; ".join(", ".join(f"{k}={_fmt(v)}" for k, v in row.items()) for row in rows)
        return _short(f"{res.get('unexpected_count')} unexpected: {shown}")
    if "unexpected_count" in res:
        sample = [str(v) for v in (res.get("partial_unexpected_list") or [])[:MAX_OBSERVED_ITEMS]]
        return _short(f"{res['unexpected_count']} unexpected, e.g. {sample}")
    return "failed"


def _failure(spec: SuiteSpec, batch: str, er: Any, observed: str) -> Failure:
    """The failure of the expectation result ``er`` on ``batch``."""
    conf = er.expectation_config
    meta = conf.meta or {}
    kwargs = conf.kwargs or {}
    column = meta.get("column") or kwargs.get("column") or (
        f"{kwargs['column_A']},{kwargs['column_B']}" if "column_A" in kwargs else None
    )
    if "column_list" in kwargs and column is None and conf.type == "expect_compound_columns_to_be_unique":
        column = ",".join(kwargs["column_list"])
    return Failure(
        suite=spec.name,
        batch=batch,
        expectation=conf.type + (f"[{meta['commitment_id']}]" if meta.get("commitment_id") else ""),
        column=column,
        severity=meta.get("severity", BLOCKING),
        observed=observed,
        why=meta.get("why", ""),
    )


def _failures(spec: SuiteSpec, batch: str, er: Any) -> list[Failure]:
    """The failures of one failed expectation result: one a column for the landing type check
    (expectations.landing_types), which judges every column at once, as the per-column type
    checks it replaced each named theirs; else one."""
    from expectations.landing_types import EXPECTATION_TYPE, describe

    mismatched = ((er.result or {}).get("details") or {}).get("mismatched")
    if er.expectation_config.type == EXPECTATION_TYPE and mismatched:
        return [replace(_failure(spec, batch, er, _short(describe(m))), column=m["column"]) for m in mismatched]
    return [_failure(spec, batch, er, _observed(er))]


def _outcome(spec: SuiteSpec, batch: str, result: Any) -> SuiteOutcome:
    failures = [f for er in result.results if not er.success for f in _failures(spec, batch, er)]
    return SuiteOutcome(spec.name, batch, not failures, len(result.results), tuple(failures))


def _missing(suite: str, batch: str, message: str, severity: str = BLOCKING) -> SuiteOutcome:
    f = Failure(suite, batch, "batch_present", None, severity, message, "the extract lands every table")
    return SuiteOutcome(suite, batch, False, 1, (f,))


def _write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, indent=2, sort_keys=True, default=str)
        fh.write("\n")
    os.replace(tmp, path)


def summary_path(cfg: VigieConfig, day: dt.date) -> Path:
    return cfg.path(cfg.outputs.gx_project) / "summaries" / f"{day.isoformat()}.json"


# --------------------------------------------------------------------------------------
# Entry point


class _Validation:
    """One GX project opened for one or more nights: validates, keeps the result ids for Data
    Docs and the suites' fingerprints before (a suite rewritten by the run is re-rendered)."""

    def __init__(self, cfg: VigieConfig):
        from expectations.gx_context import get_project

        self.project = get_project(cfg.path(cfg.outputs.gx_project), cfg.path(cfg.outputs.data_docs))
        self.result_ids: list[Any] = []
        self.suites_before = {n: s.meta.get("vigie_fingerprint") for n, s in self.project.suites.items()}

    def night(self, day: dt.date) -> _Night:
        return _Night(self, day, self.run_id(f"night-{day.isoformat()}"))

    @staticmethod
    def run_id(name: str) -> Any:
        from great_expectations.core.run_identifier import RunIdentifier

        return RunIdentifier(run_name=name, run_time=dt.datetime.now(dt.UTC))

    def validate(self, spec: SuiteSpec, asset: str, frame: Any, params: dict[str, Any] | None,
                 result_format: Any, run_id: Any) -> Any:
        """One GX validation of ``frame``; its result kept for Data Docs and returned."""
        from expectations.gx_context import ensure_validation, forget_batches

        vd = ensure_validation(self.project, spec, asset)
        try:
            res = vd.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=params or {},
                result_format=result_format,
                run_id=run_id,
            )
        finally:
            forget_batches(self.project)
        self.result_ids.append(_result_id(res, spec.name, run_id))
        return res

    def build_docs(self) -> Path:
        """Data Docs: this run's results, the index, and the suites rewritten by this run."""
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        from expectations.gx_context import build_docs

        changed = [
            ExpectationSuiteIdentifier(name=n)
            for n, s in self.project.suites.items()
            if self.suites_before.get(n) != s.meta.get("vigie_fingerprint")
        ]
        return build_docs(self.project, [*self.result_ids, *changed])


class _Night:
    """One night's validations within a ``_Validation``: its run id and outcomes."""

    def __init__(self, run: _Validation, day: dt.date, run_id: Any):
        import time

        self.run, self.day, self.run_id = run, day, run_id
        self.outcomes: list[SuiteOutcome] = []
        self.started = time.perf_counter()

    def validate(self, spec: SuiteSpec, asset: str, frame: Any, params: dict[str, Any] | None = None,
                 result_format: Any = "SUMMARY") -> None:
        res = self.run.validate(spec, asset, frame, params, result_format, self.run_id)
        self.outcomes.append(_outcome(spec, asset, res))


@dataclass(frozen=True)
class _LandedTable:
    """A landed table file of a night's batch, to validate with its landing suite."""

    source: Any
    spec: SuiteSpec
    asset: str
    path: Path

    @property
    def params(self) -> dict[str, Any]:
        return {P_SOURCE_ID: [self.source.id]}


def _check_landing(cfg: VigieConfig, night: _Night) -> None:
    """1. Landed batches of every enabled source for the night."""
    for item in _landing_plan(cfg, night.day):
        if isinstance(item, SuiteOutcome):
            night.outcomes.append(item)
        else:
            frame = landing_frame(cfg, item.source, night.day, item.path)
            night.validate(item.spec, item.asset, frame, item.params)


def _landing_plan(cfg: VigieConfig, day: dt.date) -> list[SuiteOutcome | _LandedTable]:
    """What the night's landing check is made of, in order: the outcome of a failed extract, a
    missing batch or a missing table file (no data to validate), or a landed table to validate."""
    outcomes: list[SuiteOutcome | _LandedTable] = []
    landing = landing_root(cfg)
    specs: dict[str, SuiteSpec] = {}
    for source in sorted((s for s in cfg.sources if s.enabled), key=lambda s: s.id):
        batch = batch_dir(landing, source.id, day)
        failed = failed_extract(landing, source.id, day)
        if failed is not None:
            # The scheduler gave up waiting for this source (DECISIONLOG Part 1, "Nights never
            # mix"): the night is built without it, its days are incomplete and the data team
            # is told. A warning, so that the night's other channels still reach their heads.
            table = next(iter(TABLES_BY_SOURCE_TYPE[source.type]))
            spec = specs.setdefault(table, landing_suite(table))
            outcomes.append(_missing(
                spec.name, f"{source.id}.{table}",
                f"the extract of {source.id} failed for {day} ({failed.get('error', '')[:300]}); "
                f"the night is built without it: clear its failed extract task once the source "
                f"is back", severity=WARNING))
            continue
        for table in [*TABLES_BY_SOURCE_TYPE[source.type], REJECTS_TABLE]:
            spec = specs.setdefault(table, landing_suite(table))
            asset = f"{source.id}.{table}"
            path = batch / f"{table}.parquet"
            if not batch.is_dir():
                outcomes.append(_missing(spec.name, asset, f"no landed batch {batch}: run the extract of {source.id} for {day}"))
                break
            if not path.is_file():
                outcomes.append(_missing(spec.name, asset, f"{path} is missing: re-run the extract of {source.id} for {day}"))
                continue
            outcomes.append(_LandedTable(source, spec, asset, path))
    return outcomes


def _check_marts(cfg: VigieConfig, night: _Night) -> None:
    """2. Marts integrity and commitments.

    One mart at a time: its frame is read, validated and dropped before the next is read
    (GX's batch cache emptied after each validation: ``gx_context.forget_batches``), so the
    step's memory is the largest mart's, not the three marts' together (docs/performance.md,
    "Peak memory")."""
    day, outcomes, validate = night.day, night.outcomes, night.validate
    final, error = _marts_present(cfg, day)
    if error:
        outcomes.append(_missing("marts", "marts", error))
        return
    for spec in mart_suites():
        frame = _read_mart(cfg, spec)
        validate(spec, spec.name, frame)
        del frame
    cspec = commitments_suite(cfg)
    validate(
        cspec,
        "marts.service_indicators.final_tonight",
        final,
        result_format={
            "result_format": "SUMMARY",  # the first 20 breached rows; the count is exact
            "unexpected_index_column_names": list(cspec.index_columns),
        },
    )


def _night_result(cfg: VigieConfig, night: _Night, docs_index: Path, marts: bool) -> ChecksResult:
    """3. The night's summary written; BlockingChecksFailed raised (data team told) on a
    blocking failure."""
    import time

    day = night.day
    spath = summary_path(cfg, day)
    result = ChecksResult(
        day=day,
        outcomes=tuple(night.outcomes),
        summary_path=spath,
        data_docs_index=docs_index,
        seconds=time.perf_counter() - night.started,
        marts_checked=marts,
    )
    _write_json_atomic(spath, _summary(result))
    log.info(
        "checks %s: %d suites, %d blocking, %d warnings (%.1f s); Data Docs %s",
        day, len(result.outcomes), len(result.blocking), len(result.warnings), result.seconds, docs_index,
    )
    if result.blocking:
        _tell_data_team(cfg, result)
        raise BlockingChecksFailed(result)
    return result


def run_checks(cfg: VigieConfig, day: dt.date) -> ChecksResult:
    """Validate the night ``day``; raise BlockingChecksFailed after recording everything."""
    run = _Validation(cfg)
    night = run.night(day)
    _check_landing(cfg, night)
    _check_marts(cfg, night)
    return _night_result(cfg, night, run.build_docs(), marts=True)


def run_landing_checks(cfg: VigieConfig, days: list[dt.date]) -> dict[dt.date, str]:
    """Validate the landed batches only of each night in ``days``, in one GX project and one
    Data Docs build: the backfill mode's nights that are not built on their own (their marts
    never exist; a later night's are checked). Each night gets its summary (saying so) and, on a
    blocking failure, the data team's notice. Returns night -> what failed (blocking).

    Cost: one GX validation per source and table for up to RANGE_CHUNK_ROWS rows of nights (their
    batches of one schema concatenated, ``landing_frame`` giving each row its night's window),
    instead of one per night; plus one per night and table that a failed blocking expectation
    names, validated alone exactly as ``run_checks`` does, so that its verdict, observed values
    and the data team's notice are the night's own (``_range_outcomes``).
    """
    run = _Validation(cfg)
    plans = {day: _landing_plan(cfg, day) for day in days}
    together = _validate_together(cfg, run, plans)
    nights = []
    for day, plan in plans.items():
        night = run.night(day)
        for item in plan:
            if isinstance(item, SuiteOutcome):
                night.outcomes.append(item)
            elif (day, item.asset) in together:
                night.outcomes.append(together[(day, item.asset)])
            else:  # named by a failed blocking expectation: validated alone, as on its own night
                night.validate(item.spec, item.asset, landing_frame(cfg, item.source, day, item.path), item.params)
        nights.append(night)
    docs_index = run.build_docs()
    failed: dict[dt.date, str] = {}
    for night in nights:
        try:
            _night_result(cfg, night, docs_index, marts=False)
        except BlockingChecksFailed as exc:
            failed[night.day] = str(exc)
    return failed


# Rows of one table's batches validated in one frame: bounds the frame's memory (the demo's
# largest table, queue_log, lands about 350 rows a night at scale 1: a year in one frame).
RANGE_CHUNK_ROWS = 500_000


def _validate_together(cfg: VigieConfig, run: _Validation,
                       plans: dict[dt.date, list[SuiteOutcome | _LandedTable]]) -> dict[tuple[dt.date, str], SuiteOutcome]:
    """Validate each source and table over the nights, batches of one schema together; return
    the outcome of each (night, asset) that needs no validation alone (``_range_outcomes``)."""
    import pandas as pd

    by_asset: dict[str, list[tuple[dt.date, _LandedTable]]] = {}
    for day, plan in plans.items():
        for item in plan:
            if isinstance(item, _LandedTable):
                by_asset.setdefault(item.asset, []).append((day, item))
    outcomes: dict[tuple[dt.date, str], SuiteOutcome] = {}
    for asset, members in by_asset.items():
        spec, params = members[0][1].spec, members[0][1].params

        def flush(bucket: list[tuple[dt.date, Any]], spec: SuiteSpec = spec, asset: str = asset,
                  params: dict[str, Any] = params) -> None:
            # Its own run: GX stores one result per suite, run and asset.
            run_id = run.run_id(f"landing-{bucket[0][0].isoformat()}..{bucket[-1][0].isoformat()}")
            combined = pd.concat([f for _, f in bucket], ignore_index=True)
            res = run.validate(spec, asset, combined, params, _BY_NIGHT, run_id)
            for day, outcome in _range_outcomes(spec, asset, res, [d for d, _ in bucket], run_id.run_name).items():
                if outcome is not None:
                    outcomes[(day, asset)] = outcome

        buckets: dict[tuple[tuple[str, str], ...], list[tuple[dt.date, Any]]] = {}  # by schema
        for day, item in members:
            frame = landing_frame(cfg, item.source, day, item.path)
            bucket = buckets.setdefault(tuple((str(c), str(t)) for c, t in frame.dtypes.items()), [])
            bucket.append((day, frame))
            if sum(len(f) for _, f in bucket) >= RANGE_CHUNK_ROWS:
                flush(bucket)
                bucket.clear()
        for bucket in buckets.values():
            if bucket:
                flush(bucket)
    return outcomes


# Every unexpected row with its night: which nights a failed expectation names.
_BY_NIGHT = {"result_format": "COMPLETE", "unexpected_index_column_names": [NIGHT_COLUMN]}


def _range_outcomes(spec: SuiteSpec, asset: str, res: Any, days: list[dt.date], run_name: str
                    ) -> dict[dt.date, SuiteOutcome | None]:
    """Each night's outcome from one validation of the nights' batches together, or None for a
    night to validate alone: one named by a failed blocking expectation (its unexpected rows'
    nights), every night for a failure without rows (column list, column type, an error).

    A night no failure names passed every expectation: each is per row or per batch, and the
    frames validated together share one schema. A night named by failed warnings only gets them
    with its own count of unexpected rows, the values being on the range's Data Docs page."""
    alone: set[dt.date] = set()
    warned: dict[dt.date, list[Failure]] = {}
    for er in res.results:
        if er.success:
            continue
        rows = (er.result or {}).get("unexpected_index_list") or []
        if (er.exception_info or {}).get("raised_exception") or not rows or not isinstance(rows[0], dict):
            return dict.fromkeys(days)
        counts = Counter(dt.date.fromisoformat(str(r[NIGHT_COLUMN])) for r in rows)
        if (er.expectation_config.meta or {}).get("severity", BLOCKING) == BLOCKING:
            alone.update(counts)
            continue
        for day, count in counts.items():
            observed = f"{count} unexpected in this night's batch (validated in {run_name}: values on its Data Docs page)"
            warned.setdefault(day, []).append(_failure(spec, asset, er, observed))
    return {
        day: None if day in alone else SuiteOutcome(
            spec.name, asset, day not in warned, len(res.results), tuple(warned.get(day, ())), validated_with=run_name)
        for day in days
    }


def _tell_data_team(cfg: VigieConfig, result: ChecksResult) -> None:
    """Send the data team the blocking failures (vigie.alerts.data_team), deduplicated.

    A failed notice is logged, never raised: BlockingChecksFailed must still reach the DAG
    (its failed task is the other signal), and the next run retries the notice.
    """
    from vigie.alerts.data_team import notify_checks_failed

    try:
        notice = notify_checks_failed(cfg, result.day, result.blocking, result.data_docs_index)
        result.extra["data_team_notice"] = notice
    except Exception:
        log.exception("could not tell the data team about the blocking failures of %s", result.day)


def _result_id(res: Any, suite_name: str, run_id: Any) -> Any:
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    return ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
        run_id=run_id,
        batch_identifier=res.batch_id,
    )


def _summary(result: ChecksResult) -> dict[str, Any]:
    """Deterministic night summary (no run times): same inputs give the same file."""
    return {
        "night": result.day.isoformat(),
        "success": result.success,
        "blocking_failures": len(result.blocking),
        "warnings": len(result.warnings),
        "data_docs": str(result.data_docs_index),
        "suites": [
            {
                "suite": o.suite,
                "batch": o.batch,
                "success": o.success,
                "evaluated": o.evaluated,
                **({"validated_with": o.validated_with} if o.validated_with else {}),
                "failed": [
                    {k: v for k, v in asdict(f).items() if k not in ("suite", "batch")}
                    for f in o.failures
                ],
            }
            for o in result.outcomes
        ],
        **({} if result.marts_checked else {
            "marts": "not checked this night: a backfilled night, built within a later night whose marts are checked",
            "landing": "checked with the backfill's other older nights: a batch with validated_with was"
                       " judged by one validation of that range's batches of its table (a failed warning"
                       " counts this night's unexpected rows there); a batch a failed blocking expectation"
                       " named was validated alone (its own observed values)",
        }),
    }
