"""The real alert rules (dbt's int_alert_candidates) over a hand-made marts warehouse.

Since issue 11 the alert rules live in dbt (intermediate/alerts/int_alert_candidates.sql); the
alerts read that table. Tests that build marts by hand (tests/expectations/h5_builders.py) call
``build_candidates`` after ``create_warehouse``: it loads the config tables, gives the hand-made
tables the columns the rules read (local times from the UTC instants, the quality columns of
issue 11, with what the older fixtures mean), and builds ``intermediate.int_alert_candidates``
from the model's SQL as dbt compiles it (compiled once per test session: a ``dbt run`` per test
re-parses the project, about 10 s each, since every test has its own landing path): the same SQL
as production, no Python copy of the rules.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import tempfile
from pathlib import Path

import duckdb

from vigie.config import VigieConfig
from vigie.transform import _failures, _run_dbt
from vigie.warehouse_config import load_config_tables, warehouse_path

EVALUATION_COLUMNS = {
    "counted_on": "date", "target_value": "double", "target_unit": "varchar",
    "commitment_version": "date", "source_id": "varchar", "mailbox": "varchar",
    "ticket_number": "bigint", "register_id": "varchar", "received_local_at": "timestamp",
    "deadline_local_at": "timestamp", "responded_local_at": "timestamp",
}
COMPLETENESS_COLUMNS = {
    "source_name": "varchar", "baseline_mean": "double", "p_lower_tail": "double",
    "is_suspect": "boolean", "is_failed": "boolean", "is_confirmed": "boolean",
    "incomplete_reason": "varchar", "failure_detail": "varchar",
}
GAP_COLUMNS = {"commitment_id": "varchar", "source_id": "varchar"}


def _add(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    for name, kind in columns.items():
        con.execute(f"alter table {table} add column if not exists {name} {kind}")


def build_candidates(cfg: VigieConfig, day: dt.date) -> None:
    """Config tables for night ``day``, the issue-11 columns, then the real alert rules model."""
    tz = cfg.collectivite.timezone
    con = duckdb.connect(str(warehouse_path(cfg)))
    try:
        load_config_tables(con, cfg, day - dt.timedelta(days=400), day + dt.timedelta(days=400), run_day=day)
        _add(con, "marts.commitment_evaluations", EVALUATION_COLUMNS)
        con.execute(
            f"""
            update marts.commitment_evaluations set
                received_local_at = coalesce(received_local_at, timezone('{tz}', received_at)),
                deadline_local_at = coalesce(deadline_local_at, timezone('{tz}', deadline_at)),
                responded_local_at = coalesce(responded_local_at, timezone('{tz}', responded_at)),
                target_value = coalesce(target_value, 5), target_unit = coalesce(target_unit, 'business_days')
            """
        )
        con.execute("""update marts.commitment_evaluations set target_value = null, target_unit = null
                       where channel = 'phone'""")
        _add(con, "intermediate.int_source_day_completeness", COMPLETENESS_COLUMNS)
        con.execute(
            """
            update intermediate.int_source_day_completeness set
                baseline_mean = coalesce(baseline_mean, baseline_median),
                incomplete_reason = case when is_complete then null else coalesce(incomplete_reason, 'suspect') end
            """
        )
        _add(con, "intermediate.int_service_channel_day_gaps", GAP_COLUMNS)
    finally:
        con.close()
    con = duckdb.connect(str(warehouse_path(cfg)))
    try:
        con.execute("create schema if not exists intermediate")
        con.execute(f"create or replace table intermediate.int_alert_candidates as {compiled_rules(cfg, day)}")
    finally:
        con.close()


@functools.lru_cache(maxsize=1)
def _compiled(vars_json: str) -> str:
    """dbt's compiled SELECT of int_alert_candidates (refs resolved to "vigie".<schema>.<table>,
    the catalog of every warehouse file named vigie.duckdb; the model reads no var)."""
    work = Path(tempfile.mkdtemp(prefix="vigie-alert-rules-"))
    result = _run_dbt(["compile", "--select", "int_alert_candidates", "--vars", vars_json],
                      work / "vigie.duckdb")
    assert getattr(result, "success", False), _failures(result) or getattr(result, "exception", None)
    return (work / "dbt" / "target" / "compiled" / "vigie" / "models" / "intermediate" / "alerts"
            / "int_alert_candidates.sql").read_text(encoding="utf-8")


def compiled_rules(cfg: VigieConfig, day: dt.date) -> str:
    assert warehouse_path(cfg).name == "vigie.duckdb", "the compiled SQL names the catalog 'vigie'"
    return _compiled(json.dumps({"timezone": cfg.collectivite.timezone, "landing_root": "/nonexistent"}))
