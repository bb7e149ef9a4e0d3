"""Fixtures: run the dbt project in-process against a throw-away warehouse and landing directory.

Why a harness of our own rather than vigie.transform.run_transform: these tests pin the night
(run_day, as_of) and select only the request models, and they must not depend on the whole
project's data tests passing on hand-made landing data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.landing_layout import ensure_empty_landing_tables
from connectors.landing_schemas import ALL_TABLES
from vigie.config import VigieConfig, load_config
from vigie.transform import DBT_PROJECT_DIR
from vigie.warehouse_config import load_config_tables

DEMO_CONFIG = Path(__file__).resolve().parents[3] / "config" / "vigie.yml"


@dataclass
class DbtSandbox:
    """A warehouse file, a landing root and a dbt target dir under one temporary directory."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def prepare(self, run_day: dt.date, cfg: VigieConfig | None = None) -> None:
        """Config tables (demo configuration) for night `run_day`, and the empty landing tables."""
        cfg = cfg or load_config(DEMO_CONFIG)
        ensure_empty_landing_tables(self.landing)
        con = duckdb.connect(str(self.warehouse))
        try:
            load_config_tables(
                con, cfg, run_day - dt.timedelta(days=60), run_day + dt.timedelta(days=60), run_day=run_day
            )
        finally:
            con.close()

    def land(self, source_id: str, day: dt.date, table: str, rows: list[dict[str, Any]]) -> None:
        """Write one landed table of one batch with exactly the landing schema."""
        batch = self.landing / source_id / f"day={day.isoformat()}"
        batch.mkdir(parents=True, exist_ok=True)
        full_rows = [{"source_id": source_id, **row} for row in rows]
        pq.write_table(pa.Table.from_pylist(full_rows, schema=ALL_TABLES[table]), batch / f"{table}.parquet")

    def dbt(self, args: list[str], night_vars: dict[str, str]) -> Any:
        """Invoke dbt in-process; returns the dbtRunnerResult."""
        from dbt.cli.main import dbtRunner

        os.environ["VIGIE_WAREHOUSE"] = str(self.warehouse)
        os.environ.setdefault("DO_NOT_TRACK", "1")
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        all_vars = {"timezone": "Europe/Paris", "landing_root": str(self.landing), **night_vars}
        return dbtRunner().invoke([
            *args,
            "--vars", json.dumps(all_vars, sort_keys=True),
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(self.root / "target"),
            "--log-path", str(self.root / "logs"),
        ])

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.warehouse))
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()


def night_vars(run_day: dt.date) -> dict[str, str]:
    """run_day and as_of (D+1 00:00 Europe/Paris, in UTC) as vigie/transform.py passes them."""
    from vigie.intervals import night_for_day

    night = night_for_day(run_day, "Europe/Paris")
    return {"run_day": run_day.isoformat(), "as_of": night.as_of_utc.strftime("%Y-%m-%dT%H:%M:%S+00:00")}


def node_statuses(result: Any) -> dict[str, str]:
    """unique_id -> status of every node dbt ran (models and tests; the project's on-run-start
    hook, which copies new landed files into the warehouse, is not a node of the graph)."""
    return {
        r.node.unique_id: str(r.status).lower()
        for r in (result.result or [])
        if not r.node.unique_id.startswith("operation.")
    }


@pytest.fixture
def dbt_sandbox(tmp_path: Path) -> DbtSandbox:
    return DbtSandbox(tmp_path)


@pytest.fixture
def night_vars_for():
    return night_vars


@pytest.fixture
def statuses_of():
    return node_statuses
