"""Builders for Vigie's Airflow DAGs; the files in ``dags/`` only call these.

Why a module: DAG files stay thin and cheap to parse (this module imports Airflow's SDK,
pydantic and yaml, nothing else at module level); all work happens inside task callables that
import the heavy parts (dbt, GX, DuckDB, pyarrow) when they run.

The chain, per night (DECISIONLOG "The night's day"):

    vigie_extract_telephony ─┐
    vigie_extract_email     ─┼─► vigie://landing/<family> ─► vigie_transform ─► vigie://warehouse/marts
    vigie_extract_ticketing ─┘                                                          │
                                                                    vigie_checks ◄──────┘
                                                                        │ vigie://checks/passed
                                                          ┌─────────────┴────────────┐
                                                   vigie_alerts               vigie_publish
                                                                               vigie://bi/snapshot

Every task that opens the DuckDB warehouse runs in the one-slot pool ``vigie_duckdb``: DuckDB
allows a single writer process. The night's day travels as the asset event's ``extra["day"]``
(and as ``dag_run.conf["day"]`` when ``vigie run`` drives the DAGs).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, AssetAll, CronDataIntervalTimetable, task

from vigie.config import VigieConfig, load_config
from vigie.intervals import NIGHTLY_CRON

PROJECT_DIR = Path(__file__).resolve().parent.parent
DUCKDB_POOL = "vigie_duckdb"
FAMILIES: dict[str, tuple[str, ...]] = {
    "telephony": (
        "asterisk_queue_log",
        "asterisk_cdr_csv",
        "asterisk_queue_log_sql",
        "asterisk_cdr_sql",
        "wazo_cdr",
    ),
    "email": ("maildir", "imap", "mbox"),
    "ticketing": ("glpi_sql", "request_register", "satisfaction_survey"),
}
LANDING_ASSETS = {family: Asset(f"vigie://landing/{family}") for family in FAMILIES}
MARTS_ASSET = Asset("vigie://warehouse/marts")
CHECKS_ASSET = Asset("vigie://checks/passed")
SNAPSHOT_ASSET = Asset("vigie://bi/snapshot")
START_DATE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def config_path() -> Path:
    """The configuration the DAGs run: ``VIGIE_CONFIG``, else the demo's ``config/vigie.yml``."""
    return Path(os.environ.get("VIGIE_CONFIG", PROJECT_DIR / "config" / "vigie.yml")).resolve()


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> VigieConfig:
    return load_config(path)


def current_config() -> VigieConfig:
    path = config_path()
    return _load(str(path), path.stat().st_mtime)


def _default_args() -> dict[str, Any]:
    # `vigie run` sets VIGIE_LOCAL_RUN: a failure must stop the local run at once, not wait for
    # a retry delay inside `dag.test`. Scheduled runs retry twice.
    local = bool(os.environ.get("VIGIE_LOCAL_RUN"))
    return {
        "owner": "vigie",
        "retries": 0 if local else 2,
        "retry_delay": dt.timedelta(minutes=5),
    }


def _night_day(context: dict[str, Any], cfg: VigieConfig) -> dt.date:
    from vigie.intervals import day_from_context

    return day_from_context(context, cfg.collectivite.timezone)


def _mark(context: dict[str, Any], asset: Asset, day: dt.date) -> None:
    """Attach the night's day to the asset event so downstream DAGs know which night to build."""
    context["outlet_events"][asset].extra = {"day": day.isoformat()}


def families_with_sources(cfg: VigieConfig) -> list[str]:
    return [f for f, types in FAMILIES.items() if cfg.sources_of(*types)]


def build_extract_dag(family: str) -> DAG:
    cfg = current_config()
    asset = LANDING_ASSETS[family]
    with DAG(
        dag_id=f"vigie_extract_{family}",
        description=f"Land one night of every {family} source (Parquet, atomic, with rejects)",
        schedule=CronDataIntervalTimetable(NIGHTLY_CRON, timezone=cfg.collectivite.timezone),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=_default_args(),
        tags=["vigie", "extract", family],
        doc_md=__doc__,
    ) as dag:
        sources = cfg.sources_of(*FAMILIES[family])
        for source in sources:

            @task(task_id=f"extract_{source.id}", outlets=[asset])
            def extract(source_id: str = source.id, **context: Any) -> dict[str, Any]:
                from connectors.extract import extract_source

                conf = current_config()
                day = _night_day(context, conf)
                batch = extract_source(conf, source_id, day)
                _mark(context, asset, day)
                return {
                    "day": day.isoformat(),
                    "rows": batch.row_counts,
                    "rejects": batch.reject_count,
                    "path": str(batch.path),
                }

            extract()
        if not sources:

            @task(task_id="no_source_configured")
            def nothing() -> str:
                return f"no {family} source is configured"

            nothing()
    return dag


def _night_step_dag(
    *,
    dag_id: str,
    description: str,
    schedule: Any,
    tags: list[str],
    task_id: str,
    step: Callable[[VigieConfig, dt.date], Any],
    outlet: Asset | None = None,
) -> DAG:
    """One asset-scheduled DAG of one task: find the night's day, run ``step(cfg, day)``, tell
    downstream DAGs which night is ready through ``outlet`` (none: the chain ends here).

    Why one shape: transform, checks, alerts and publish differ only by what they run and what
    they announce. A step that raises (dbt failure, blocking checks) emits no asset event, so
    nothing downstream runs for that night."""
    with DAG(
        dag_id=dag_id,
        description=description,
        schedule=schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=_default_args(),
        tags=["vigie", *tags],
    ) as dag:

        @task(task_id=task_id, pool=DUCKDB_POOL, outlets=[outlet] if outlet is not None else [])
        def run_step(**context: Any) -> Any:
            conf = current_config()
            day = _night_day(context, conf)
            result = step(conf, day)
            if outlet is not None:
                _mark(context, outlet, day)
            return _plain(result)

        run_step()
    return dag


# The steps import their heavy parts (dbt, GX, DuckDB) when they run, never at parse time.
def _transform_step(cfg: VigieConfig, day: dt.date) -> str:
    from vigie.transform import run_transform

    run_transform(cfg, day)
    return day.isoformat()


def _checks_step(cfg: VigieConfig, day: dt.date) -> Any:
    from expectations.run import run_checks

    return run_checks(cfg, day)  # raises on a blocking failure: no asset event


def _alerts_step(cfg: VigieConfig, day: dt.date) -> Any:
    from vigie.alerts import run_alerts

    return run_alerts(cfg, day)


def _publish_step(cfg: VigieConfig, day: dt.date) -> str:
    from vigie.publish import publish_snapshot

    return str(publish_snapshot(cfg, day))


def build_transform_dag() -> DAG:
    families = families_with_sources(current_config()) or list(FAMILIES)
    return _night_step_dag(
        dag_id="vigie_transform",
        description="dbt build: staging, calendar, commitment engine, marts",
        schedule=AssetAll(*[LANDING_ASSETS[f] for f in families]),
        tags=["dbt"],
        task_id="dbt_build",
        step=_transform_step,
        outlet=MARTS_ASSET,
    )


def build_checks_dag() -> DAG:
    return _night_step_dag(
        dag_id="vigie_checks",
        description="Great Expectations: landed batches and commitments; Data Docs",
        schedule=[MARTS_ASSET],
        tags=["quality"],
        task_id="validate",
        step=_checks_step,
        outlet=CHECKS_ASSET,
    )


def build_alerts_dag() -> DAG:
    return _night_step_dag(
        dag_id="vigie_alerts",
        description="Digests to service heads: new misses, overdue items, breached commitments",
        schedule=[CHECKS_ASSET],
        tags=["alerts"],
        task_id="send_digests",
        step=_alerts_step,
    )


def build_publish_dag() -> DAG:
    return _night_step_dag(
        dag_id="vigie_publish",
        description="Read-only BI snapshot of the marts, swapped in atomically",
        schedule=[CHECKS_ASSET],
        tags=["bi"],
        task_id="publish_snapshot",
        step=_publish_step,
        outlet=SNAPSHOT_ASSET,
    )


def _plain(result: Any) -> Any:
    """An XCom-safe view of a result object (dataclass, dict or anything with __dict__)."""
    import dataclasses
    import json

    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    elif hasattr(result, "__dict__") and not isinstance(result, dict):
        result = vars(result)
    return json.loads(json.dumps(result, default=str))


# Order in which `vigie run` drives the DAGs for one night.
NIGHTLY_ORDER = (
    "vigie_extract_telephony",
    "vigie_extract_email",
    "vigie_extract_ticketing",
    "vigie_transform",
    "vigie_checks",
    "vigie_alerts",
    "vigie_publish",
)
