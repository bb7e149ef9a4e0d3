"""The DAG folder imports cleanly and wires the nightly chain as designed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("airflow_home")
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(PROJECT_DIR / "dags")
    os.environ["VIGIE_CONFIG"] = str(PROJECT_DIR / "config" / "vigie.yml")
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_DIR / "dags"))


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == {
        "vigie_extract_telephony", "vigie_extract_email", "vigie_extract_ticketing",
        "vigie_transform", "vigie_checks", "vigie_alerts", "vigie_publish",
    }


def test_extract_dags_are_nightly_data_intervals_in_the_collectivite_zone(dagbag) -> None:
    from airflow.sdk import CronDataIntervalTimetable

    for family in ("telephony", "email", "ticketing"):
        dag = dagbag.dags[f"vigie_extract_{family}"]
        assert isinstance(dag.timetable, CronDataIntervalTimetable)
        assert dag.timetable.expression == "0 2 * * *"
        assert "Europe/Paris" in str(dag.timetable.timezone)
    assert [t.task_id for t in dagbag.dags["vigie_extract_telephony"].tasks] == [
        "extract_pbx_queue_log", "extract_pbx_cdr"]


def test_downstream_dags_follow_assets_and_duckdb_writers_share_one_pool(dagbag) -> None:
    uris = {
        d: sorted(a.uri for a in dagbag.dags[d].timetable.asset_condition.objects)
        for d in ("vigie_transform", "vigie_checks", "vigie_alerts", "vigie_publish")
    }
    assert uris["vigie_transform"] == [
        "vigie://landing/email", "vigie://landing/telephony", "vigie://landing/ticketing"]
    assert uris["vigie_checks"] == ["vigie://warehouse/marts"]
    assert uris["vigie_alerts"] == uris["vigie_publish"] == ["vigie://checks/passed"]
    for dag_id in ("vigie_transform", "vigie_checks", "vigie_alerts", "vigie_publish"):
        for t in dagbag.dags[dag_id].tasks:
            assert t.pool == "vigie_duckdb", (dag_id, t.task_id)


def test_dag_files_import_nothing_heavy_at_module_level() -> None:
    """Parsing a DAG file must not import dbt, GX, DuckDB, pandas or pyarrow (parse-time cost)."""
    code = textwrap.dedent(
        f"""
        import runpy, sys
        for f in sorted(__import__('glob').glob({str(PROJECT_DIR / 'dags')!r} + '/*.py')):
            runpy.run_path(f)
        heavy = [m for m in ('dbt', 'great_expectations', 'duckdb', 'pandas', 'pyarrow', 'matplotlib')
                 if m in sys.modules]
        print(','.join(heavy))
        """
    )
    env = dict(os.environ, VIGIE_CONFIG=str(PROJECT_DIR / "config" / "vigie.yml"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=PROJECT_DIR, check=True)
    assert out.stdout.strip().splitlines()[-1:] in ([], [""]), out.stdout
