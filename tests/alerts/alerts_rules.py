"""The real alert rules (dbt's int_alert_candidates) over a hand-made marts warehouse.

Since issue 11 the alert rules live in dbt (intermediate/alerts/int_alert_candidates.sql); the
alerts read that table. Tests that build marts by hand (tests/expectations/h5_builders.py) call
``build_candidates`` after ``create_warehouse``: it loads the config tables, gives the hand-made
tables the columns the rules read (local times from the UTC instants, the quality columns of
issue 11, with what the older fixtures mean), and runs ``dbt run --select int_alert_candidates``:
the same SQL as production, no Python copy of the rules.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from vigie.config import VigieConfig
from vigie.transform import ensure_empty_landing_tables, landing_root, run_dbt, warehouse_path
from vigie.warehouse_config import load_config_tables

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
    ensure_empty_landing_tables(landing_root(cfg))
    run_dbt(cfg, day, ["run", "--select", "int_alert_candidates"])
