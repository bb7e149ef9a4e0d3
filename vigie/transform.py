"""Nightly transform: ``dbt build`` of the whole project, in-process, and the night's sequence.

This module runs dbt; it knows nothing of the landing's layout (connectors/landing_layout.py),
of the configuration tables (vigie/warehouse_config.py), of the history schema
(vigie/history.py) or of retention (vigie/retention.py): ``run_transform`` only calls them in
order.

Why in-process (``dbtRunner``) and not a ``dbt`` subprocess: the local runner and the Airflow
task call this once per night, often for many nights in a row (backfills); in one process dbt
keeps its partial-parse state in ``target/`` and skips the Python start-up, so a repeated build
costs a few seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path

from connectors.landing_layout import ensure_empty_landing_tables, landing_root
from vigie.config import VigieConfig
from vigie.history import record_history
from vigie.intervals import night_for_day
from vigie.landing_listing import listing_path, write_landing_listing
from vigie.retention import purge_landed_batches
from vigie.warehouse_config import load_night_config, warehouse_path

# VIGIE_DBT_PROJECT_DIR lets a developer build a copy of the project (same profile layout).
DBT_PROJECT_DIR = Path(
    os.environ.get("VIGIE_DBT_PROJECT_DIR") or Path(__file__).resolve().parent.parent / "dbt_project"
)
# Whether run_day and as_of go on dbt's command line as well as into config.settings. A var that
# changes every night costs dbt a full re-parse (measured: about 2.8 s a night), so by default
# they do not: every model reads them through the macros run_day() / as_of()
# (macros/vigie_time.sql), which fall back to config.settings. VIGIE_DBT_NIGHT_VARS=1 passes
# them too (same results; useful to compare or to debug a model with `dbt compile`).
NIGHT_VARS_ON_COMMAND_LINE = os.environ.get("VIGIE_DBT_NIGHT_VARS", "0") == "1"
STABLE_VARS = ("timezone", "landing_root", "email_thread_window_days")


class TransformFailed(RuntimeError):
    """dbt build failed; ``failed_nodes`` lists 'node id: message' for every failing node."""

    def __init__(self, day: dt.date, failed_nodes: Sequence[str], detail: str = ""):
        self.failed_nodes = list(failed_nodes)
        lines = "\n".join(f"  - {n}" for n in self.failed_nodes) or f"  (no node result) {detail}"
        super().__init__(f"dbt build for night {day.isoformat()} failed:\n{lines}")


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


def _run_dbt(args: list[str], warehouse: Path) -> object:
    """Invoke dbt in-process with the project's profile and the warehouse from the env.

    What dbt writes besides the warehouse costs a night time and nobody reads it
    (DECISIONLOG Part 2, "Running dbt"): no ``manifest.json``, ``semantic_manifest.json`` or
    ``graph.gpickle`` (``--no-write-json``; ``partial_parse.msgpack`` is still written when the
    project changed); ``run_results.json`` is written here, from the result; ``dbt.log`` at
    ``info`` (one line per node and its timing, not every SQL statement: ``DBT_LOG_LEVEL_FILE``
    overrides); a compiled SQL file identical to the one on disk is not rewritten; log lines
    are scrubbed of secrets read once per invocation.
    """
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
        "--no-write-json",
    ]
    if not os.environ.get("DBT_LOG_LEVEL_FILE"):
        full += ["--log-level-file", "info"]
    _keep_unchanged_compiled_files()
    _read_secrets_once_per_invocation()
    try:
        result = dbtRunner().invoke(full)
    finally:
        release_dbt_duckdb(warehouse)
    _write_run_results(result, run_dir / "target" / "run_results.json")
    return result


def _write_run_results(result: object, path: Path) -> None:
    """dbt's ``run_results.json`` (time and status per node), as dbt writes it with JSON on.

    Only for the commands that run nodes (build, run, test, compile); ``docs generate`` writes
    its own ``catalog.json`` and ``manifest.json`` whatever the flag."""
    from dbt.artifacts.schemas.run import RunExecutionResult

    executed = getattr(result, "result", None)
    if not isinstance(executed, RunExecutionResult) or not executed.results:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    executed.write(str(path))


def _keep_unchanged_compiled_files() -> None:
    """Let dbt skip rewriting a compiled SQL file (``target/compiled``, ``target/run``) whose
    content is already on disk.

    Night after night dbt writes the same 550 files (the night's day is read from
    ``config.settings``, not compiled in). Truncating and rewriting a file costs far more than
    reading it on some file systems (about 2 ms a file here: ext4 with ``discard`` frees and
    trims the old blocks), about 1 s a night. Same files, same content either way.
    """
    from dbt.contracts.graph import nodes

    if getattr(nodes.write_file, "_vigie_unchanged", False):
        return
    original = nodes.write_file

    def write_file(path: str, contents: str = "") -> bool:
        try:
            with open(path, encoding="utf-8") as fh:
                if fh.read() == str(contents):
                    return True
        except (OSError, UnicodeDecodeError):
            pass
        return original(path, contents)

    write_file._vigie_unchanged = True  # type: ignore[attr-defined]
    nodes.write_file = write_file


# The DBT_ENV_SECRET_* values dbt's log lines are scrubbed of, read once per invocation.
_ENV_SECRETS: list[str] = []


def _read_secrets_once_per_invocation() -> None:
    """Let dbt scrub its log lines of the secrets read once per invocation, not once per line.

    dbt builds a console and a file line for each of its 5,600 events of a night (before the
    level drops most of them) and scrubs each of the values of every ``DBT_ENV_SECRET_*``
    variable, found by walking the whole environment again: about 0.6 s a night in a process
    with Airflow's environment. The same values, read when the invocation starts (nothing sets
    them while dbt runs), scrub the same lines.
    """
    from dbt_common.events import functions
    from dbt_common.exceptions.base import env_secrets

    _ENV_SECRETS[:] = env_secrets()
    if getattr(functions.env_secrets, "_vigie_once", False):
        return

    def secrets_of_this_invocation() -> list[str]:
        return list(_ENV_SECRETS)

    secrets_of_this_invocation._vigie_once = True  # type: ignore[attr-defined]
    functions.env_secrets = secrets_of_this_invocation


def release_dbt_duckdb(warehouse: Path) -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation.

    dbt-duckdb caches its environment (and the database handle) in a class attribute; left
    open, it holds the warehouse file, so a later read-only connection in the same process
    fails ("different configuration") and the next task cannot open it from another process.
    Tasks must never keep the warehouse open.

    A cursor still referenced from a reference cycle (a failed node's traceback, a finished
    adapter object) would keep the database open until the garbage collector frees it; so
    when the warehouse cannot be opened read-only right after the close, a full collection
    frees it. It is not run unconditionally: in the local runner's process (Airflow, GX and dbt
    loaded: about a million objects) a full collection costs 1.5-1.7 s of a 9 s night, and
    after an ordinary build nothing is left holding the file (DECISIONLOG Part 2, "Running
    dbt").
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            env.close()
    if _held_open(warehouse):
        import gc

        gc.collect()


def _held_open(warehouse: Path) -> bool:
    """Whether this process still holds ``warehouse`` open (a read-only connection is refused
    while a read-write database instance of the same file is alive in the process)."""
    import duckdb

    if not warehouse.exists():
        return False
    try:
        duckdb.connect(str(warehouse), read_only=True).close()
    except duckdb.Error:
        return True
    return False


def _failures(result: object, warehouse: Path | None = None) -> list[str]:
    """'unique_id: status message' of every node that errored or whose test failed.

    With the warehouse, a failed data test also shows the first rows its query returns: dbt
    only says how many rows there were, and a test covering several columns of a model
    (``column_checks``: one row per column and rule that fails) is read by its rows.
    """
    failed = []
    for r in getattr(result, "result", None) or []:
        status = str(getattr(r, "status", "")).lower()
        if status in {"error", "fail", "runtime error"}:
            node = getattr(r, "node", None)
            line = f"{getattr(node, 'unique_id', '?')}: {status} {(getattr(r, 'message', '') or '').strip()}"
            if status == "fail" and warehouse is not None:
                rows = _failing_rows(warehouse, getattr(node, "compiled_code", None))
                line += f" ({rows})" if rows else ""
            failed.append(line)
    return failed


def _failing_rows(warehouse: Path, test_sql: str | None, limit: int = 5) -> str:
    """The first ``limit`` rows a failed data test's compiled query returns, as
    'column=value, ...; ...' (e.g. ``column_name='service_name', null_rows=2``); empty when
    they cannot be read (the warehouse is busy, the SQL is not a plain query)."""
    if not test_sql:
        return ""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            cursor = con.execute(f"select * from ({test_sql}) as failing limit {int(limit)}")
            names = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall()
        finally:
            con.close()
    except duckdb.Error:
        return ""
    return "; ".join(", ".join(f"{n}={v!r}" for n, v in zip(names, row, strict=True)) for row in rows)


def run_dbt(cfg: VigieConfig, day: dt.date, command: Sequence[str]) -> None:
    """Run one dbt command (e.g. ['build', '--exclude', 'resource_type:unit_test']) for a night."""
    warehouse = warehouse_path(cfg)
    night_vars = dbt_vars(cfg, day)
    if not NIGHT_VARS_ON_COMMAND_LINE:
        night_vars = {k: v for k, v in night_vars.items() if k in STABLE_VARS}
    # The landed files for sync_landing, re-listed only in new or changed batch directories
    # (vigie/landing_listing.py; issue 16). Its path is stable: dbt's partial parse is kept.
    night_vars["landing_listing"] = str(write_landing_listing(night_vars["landing_root"], listing_path(warehouse)))
    args = [*command, "--vars", json.dumps(night_vars, sort_keys=True)]
    result = _run_dbt(args, warehouse)
    if not getattr(result, "success", False):
        exc = getattr(result, "exception", None)
        raise TransformFailed(day, _failures(result, warehouse), detail=str(exc or "")) from exc


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
    load_night_config(cfg, day, warehouse)
    run_dbt(cfg, day, ["build", "--exclude", "resource_type:unit_test"])
    # Only after a successful build (run_dbt raised otherwise): record the history, then purge
    # the landed batches older than the retention (vigie/retention.py).
    record_history(cfg, day)
    purge_landed_batches(cfg, day)
