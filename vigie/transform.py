"""Nightly transform: configuration tables, then ``dbt build`` of the whole project, in-process.

Why in-process (``dbtRunner``) and not a ``dbt`` subprocess: the local runner and the Airflow
task call this once per night, often for many nights in a row (backfills); in one process dbt
keeps its partial-parse state in ``target/`` and skips the Python start-up, so a repeated build
costs a few seconds.

Why the calendar range is derived from the landing rather than from the run day alone: the
day indices of the calendar are running counts from ``calendar_start``; only their differences
matter, but a range that depends on the landing state only (and on the day) keeps every table
byte-identical between two runs of the same night on the same data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import zoneinfo
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.landing_schemas import ALL_TABLES, REJECTS, REJECTS_TABLE
from vigie.config import VigieConfig
from vigie.intervals import night_for_day
from vigie.sql_values import first_value
from vigie.warehouse_config import load_config_tables

# VIGIE_DBT_PROJECT_DIR lets a developer build a copy of the project (same profile layout).
DBT_PROJECT_DIR = Path(
    os.environ.get("VIGIE_DBT_PROJECT_DIR") or Path(__file__).resolve().parent.parent / "dbt_project"
)
EMPTY_SOURCE_DIR = "_empty"
EMPTY_DAY = dt.date(1900, 1, 1)
CALENDAR_MARGIN_BEFORE = dt.timedelta(days=31)
CALENDAR_MARGIN_AFTER = dt.timedelta(days=400)
# Whether run_day and as_of go on dbt's command line as well as into config.settings. A var that
# changes every night costs dbt a full re-parse (measured: about 2.8 s a night), so by default
# they do not: every model reads them through the macros run_day() / as_of()
# (macros/vigie_time.sql), which fall back to config.settings. VIGIE_DBT_NIGHT_VARS=1 passes
# them too (same results; useful to compare or to debug a model with `dbt compile`).
NIGHT_VARS_ON_COMMAND_LINE = os.environ.get("VIGIE_DBT_NIGHT_VARS", "0") == "1"
STABLE_VARS = ("timezone", "landing_root", "email_thread_window_days")
_DAY_DIR = re.compile(r"^day=(\d{4}-\d{2}-\d{2})$")


class TransformFailed(RuntimeError):
    """dbt build failed; ``failed_nodes`` lists 'node id: message' for every failing node."""

    def __init__(self, day: dt.date, failed_nodes: Sequence[str], detail: str = ""):
        self.failed_nodes = list(failed_nodes)
        lines = "\n".join(f"  - {n}" for n in self.failed_nodes) or f"  (no node result) {detail}"
        super().__init__(f"dbt build for night {day.isoformat()} failed:\n{lines}")


def warehouse_path(cfg: VigieConfig) -> Path:
    return cfg.path(cfg.outputs.warehouse)


def landing_root(cfg: VigieConfig) -> Path:
    return cfg.path(cfg.outputs.landing)


def dbt_vars(cfg: VigieConfig, day: dt.date) -> dict[str, str]:
    """The vars every model reads (dbt_project.yml vars): the night, its as-of instant, zone, landing."""
    night = night_for_day(day, cfg.collectivite.timezone)
    return {
        "run_day": day.isoformat(),
        "as_of": night.as_of_utc.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "timezone": cfg.collectivite.timezone,
        "landing_root": str(landing_root(cfg)),
        # Stable from night to night: passing it keeps dbt's partial parse.
        "email_thread_window_days": str(cfg.email.thread_window_days),
    }


def landed_batch_dirs(root: Path, up_to: dt.date) -> list[tuple[dt.date, Path]]:
    """(day, directory) of every landed batch of a real source with day <= up_to.

    The `_empty` placeholders and temp/aside directories of an atomic landing are skipped; later
    nights are ignored so that re-running an old night sees the landing as it was known then.
    """
    found = []
    if root.is_dir():
        for source_dir in sorted(root.iterdir()):
            if not source_dir.is_dir() or source_dir.name.startswith(("_", ".")):
                continue
            for part in sorted(source_dir.iterdir()):
                m = _DAY_DIR.match(part.name)
                if m and part.is_dir():
                    day = dt.date.fromisoformat(m.group(1))
                    if day <= up_to:
                        found.append((day, part))
    return found


# Landed tables whose rows can be much older than their batch's night, and the instant that
# starts their clock: a GLPI ticket modified tonight may be years old; a courrier register lands
# letters received up to lookback_days (400) before the night; the first read of an IMAP folder
# (or an mbox) lands its whole history in the first night's batch.
OLD_ROW_INSTANTS: dict[str, str] = {
    "glpi_tickets": 'least("date", date_creation)',
    "register_requests": "received_at",
    "email_messages": "received_at",
}


def earliest_landed_row_day(batches: list[tuple[dt.date, Path]], tz: str) -> dt.date | None:
    """Local date of the oldest row of ``OLD_ROW_INSTANTS`` landed in ``batches``: a request's
    clock must start on a calendar that covers its receipt."""
    firsts = []
    con = duckdb.connect()
    try:
        for table, instant in OLD_ROW_INSTANTS.items():
            files = [str(d / f"{table}.parquet") for _, d in batches if (d / f"{table}.parquet").exists()]
            if files:
                first = first_value(con.execute(
                    f"select min({instant}) from read_parquet(?, union_by_name = true)", [files]
                ))
                if first is not None:
                    firsts.append(first)
    finally:
        con.close()
    if not firsts:
        return None
    return min(firsts).astimezone(zoneinfo.ZoneInfo(tz)).date()


def calendar_range(cfg: VigieConfig, day: dt.date) -> tuple[dt.date, dt.date]:
    """[min(earliest landed day, oldest landed ticket, letter or message, day) - 31 days,
    day + 400 days].

    Only batches up to `day` count: the range is a function of the landing as known that night.
    """
    batches = landed_batch_dirs(landing_root(cfg), day)
    candidates = [day, *(d for d, _ in batches)]
    oldest_row_day = earliest_landed_row_day(batches, cfg.collectivite.timezone)
    if oldest_row_day is not None:
        candidates.append(oldest_row_day)
    return min(candidates) - CALENDAR_MARGIN_BEFORE, day + CALENDAR_MARGIN_AFTER


def ensure_empty_landing_tables(root: Path) -> None:
    """One typed, empty Parquet file per landing table under `<landing>/_empty/day=1900-01-01/`.

    The staging models glob `<landing>/*/day=*/<table>.parquet` (macros/landing_scan.sql): a
    site without GLPI, or a first night before any extract, still gets a well-typed empty
    relation instead of "No files found". Written atomically, and only when missing or stale.
    """
    target = root / EMPTY_SOURCE_DIR / f"day={EMPTY_DAY.isoformat()}"
    target.mkdir(parents=True, exist_ok=True)
    tables: dict[str, pa.Schema] = {**ALL_TABLES, REJECTS_TABLE: REJECTS}
    for name, schema in tables.items():
        path = target / f"{name}.parquet"
        if path.exists():
            try:
                if pq.read_schema(path).equals(schema, check_metadata=False):
                    continue
            except (OSError, pa.ArrowInvalid):
                pass
        tmp = path.with_suffix(".parquet.tmp")
        pq.write_table(schema.empty_table(), tmp)
        os.replace(tmp, path)


def _run_dbt(args: list[str], warehouse: Path) -> object:
    """Invoke dbt in-process with the project's profile and the warehouse from the env."""
    from dbt.cli.main import dbtRunner

    os.environ["VIGIE_WAREHOUSE"] = str(warehouse)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    run_dir = warehouse.parent / "dbt"
    full = [
        *args,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(run_dir / "target"),
        "--log-path", str(run_dir / "logs"),
    ]
    try:
        return dbtRunner().invoke(full)
    finally:
        release_dbt_duckdb()


def release_dbt_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation.

    dbt-duckdb caches its environment (and the database handle) in a class attribute; left
    open, it holds the warehouse file, so a later read-only connection in the same process
    fails ("different configuration") and the next task cannot open it from another process.
    Tasks must never keep the warehouse open.
    """
    import gc

    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            env.close()
    gc.collect()  # cursors still referenced by finished adapter objects keep the file open


def _failures(result: object) -> list[str]:
    """'unique_id: status message' of every node that errored or whose test failed."""
    failed = []
    for r in getattr(result, "result", None) or []:
        status = str(getattr(r, "status", "")).lower()
        if status in {"error", "fail", "runtime error"}:
            name = getattr(getattr(r, "node", None), "unique_id", "?")
            failed.append(f"{name}: {status} {(getattr(r, 'message', '') or '').strip()}")
    return failed


def run_dbt(cfg: VigieConfig, day: dt.date, command: Sequence[str]) -> None:
    """Run one dbt command (e.g. ['build', '--exclude', 'resource_type:unit_test']) for a night."""
    warehouse = warehouse_path(cfg)
    night_vars = dbt_vars(cfg, day)
    if not NIGHT_VARS_ON_COMMAND_LINE:
        night_vars = {k: v for k, v in night_vars.items() if k in STABLE_VARS}
    args = [*command, "--vars", json.dumps(night_vars, sort_keys=True)]
    result = _run_dbt(args, warehouse)
    if not getattr(result, "success", False):
        exc = getattr(result, "exception", None)
        raise TransformFailed(day, _failures(result), detail=str(exc or "")) from exc


def run_transform(cfg: VigieConfig, day: dt.date) -> None:
    """Load the config tables for night `day`, then `dbt build` (models and data tests), then
    record the final indicators, exclusions and commitment versions in the history schema
    (vigie/history.py) and purge the landed batches
    older than ``retention.landed_days`` (both only after a successful build).

    Idempotent: same configuration, same landing and same day give the same warehouse tables.
    Raises TransformFailed naming every failing model or test.
    """
    warehouse = warehouse_path(cfg)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    ensure_empty_landing_tables(landing_root(cfg))
    start, end = calendar_range(cfg, day)
    con = duckdb.connect(str(warehouse))
    try:
        load_config_tables(con, cfg, start, end, run_day=day)
    finally:
        con.close()
    run_dbt(cfg, day, ["build", "--exclude", "resource_type:unit_test"])
    # Only after a successful build (run_dbt raised otherwise): record the history, then purge
    # the landed batches older than the retention (vigie/retention.py).
    from vigie.history import record_history
    from vigie.retention import purge_landed_batches

    record_history(cfg, day)
    purge_landed_batches(cfg, day)
