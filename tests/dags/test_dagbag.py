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
        "vigie_extract_telephony", "vigie_extract_email", "vigie_extract_ticketing", "vigie_night",
    }


def test_extract_dags_are_nightly_partitions_in_the_collectivite_zone(dagbag) -> None:
    """The run starting at 02:00 local on D+1 carries the partition key D (its night)."""
    import datetime as dt

    from airflow.sdk import CronPartitionTimetable
    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable
    from airflow.timetables.base import TimeRestriction

    for family in ("telephony", "email", "ticketing"):
        dag = dagbag.dags[f"vigie_extract_{family}"]
        assert isinstance(dag.timetable, CronPartitionTimetable)
        assert dag.timetable.expression == "0 2 * * *"
        assert "Europe/Paris" in str(dag.timetable.timezone)
        core = decode_timetable(encode_timetable(dag.timetable))
        # the day clocks go back: the run of 2026-10-26 02:00 CET is night 2026-10-25
        info = core.next_dagrun_info_v2(
            last_dagrun_info=None,
            restriction=TimeRestriction(
                earliest=dt.datetime(2026, 10, 26, 0, 30, tzinfo=dt.UTC), latest=None, catchup=True
            ),
        )
        assert info.run_after == dt.datetime(2026, 10, 26, 1, 0, tzinfo=dt.UTC)
        assert info.partition_key == "2026-10-25"
    tasks = [t.task_id for t in dagbag.dags["vigie_extract_telephony"].tasks]
    assert tasks == ["extract_pbx_queue_log", "extract_pbx_cdr", "land_night", "all_sources_landed",
                     "rebuild_night"]
    announce = dagbag.dags["vigie_extract_telephony"].get_task("land_night")
    assert [a.uri for a in announce.outlets] == ["vigie://landing/telephony"]
    assert announce.trigger_rule == "all_done"
    # announcements one at a time (Airflow 3.3.2 loses a night to two simultaneous events)
    assert announce.pool == "vigie_duckdb"
    rebuild = dagbag.dags["vigie_extract_telephony"].get_task("rebuild_night")
    assert sorted(a.uri for a in rebuild.outlets) == ["vigie://landing/email", "vigie://landing/ticketing"]
    assert rebuild.upstream_task_ids == {"land_night"}


def test_night_dag_waits_for_every_family_of_the_same_night(dagbag) -> None:
    from airflow.sdk import PartitionedAssetTimetable

    dag = dagbag.dags["vigie_night"]
    assert isinstance(dag.timetable, PartitionedAssetTimetable)
    assert sorted(a.uri for a in dag.timetable.asset_condition.objects) == [
        "vigie://landing/email", "vigie://landing/telephony", "vigie://landing/ticketing"]
    assert dag.max_active_runs == 1
    assert [t.task_id for t in dag.topological_sort()][:2] == ["dbt_build", "validate"]
    assert dag.get_task("validate").downstream_task_ids == {"send_digests", "publish_snapshot"}
    assert dag.get_task("publish_snapshot").downstream_task_ids == {"publish_postgres"}
    for t in dag.tasks:
        assert t.pool == "vigie_duckdb", t.task_id
        assert t.queue == "duckdb", t.task_id


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


def test_trigger_names_the_dags_that_the_dag_folder_builds() -> None:
    """`vigie trigger` keeps the DAG ids as literals (no Airflow import for `vigie --help`)."""
    from vigie import airflow_dags, trigger

    assert trigger.EXTRACT_DAG_IDS == airflow_dags.EXTRACT_DAG_IDS
    assert trigger.NIGHT_DAG_ID == airflow_dags.NIGHT_DAG_ID
