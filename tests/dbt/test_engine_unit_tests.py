"""Run every dbt unit test of the project (`unit_tests:` YAML) in-process on a temp warehouse.

This is how `make test` exercises the calendar, the commitment engine and the marts: the
expected values live beside the models, in dbt's own unit-test format, and this test only
prepares what dbt needs (the config tables, typed empty landing files and the upstream
relations, built with `--empty` because dbt reads their column types) and asserts success.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from connectors.landing_layout import ensure_empty_landing_tables
from vigie.config import Outputs, load_config
from vigie.transform import _failures, _run_dbt, dbt_vars
from vigie.warehouse_config import load_config_tables

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "vigie.yml"
NIGHT = dt.date(2026, 11, 28)


def test_every_dbt_unit_test_passes(tmp_path: Path) -> None:
    cfg = load_config(DEMO_CONFIG)
    cfg = cfg.model_copy(
        update={
            "outputs": Outputs(
                warehouse=str(tmp_path / "warehouse" / "vigie.duckdb"), landing=str(tmp_path / "landing")
            )
        }
    )
    warehouse = tmp_path / "warehouse" / "vigie.duckdb"
    warehouse.parent.mkdir(parents=True)
    ensure_empty_landing_tables(tmp_path / "landing")
    con = duckdb.connect(str(warehouse))
    try:
        load_config_tables(con, cfg, NIGHT - dt.timedelta(days=31), NIGHT + dt.timedelta(days=400), run_day=NIGHT)
    finally:
        con.close()

    vars_ = json.dumps(dbt_vars(cfg, NIGHT))
    built = _run_dbt(["run", "--empty", "--vars", vars_], warehouse)
    assert built.success, _failures(built) or built.exception

    result = _run_dbt(["test", "--select", "test_type:unit", "--vars", vars_], warehouse)
    assert result.success, "\n".join(_failures(result)) or str(result.exception)
    names = {r.node.name for r in result.result}
    # the engine's own unit tests ran (not only other parts' ones)
    assert {
        "engine_rules_of_domain_section_5",
        "engine_pending_then_overdue_night_1",
        "engine_pending_then_overdue_night_2",
        "engine_reunion_time_zone",
        "engine_reunion_20_december_on_a_monday",
        "engine_same_instants_in_paris",
        "calendar_holidays_bridge_worked_holiday_service_closure",
        "opening_intervals_dst_versions_closures",
        "commitment_versions_end_at_the_next_version",
        "service_indicators_periods_rates_breaches_volumes",
    } <= names
