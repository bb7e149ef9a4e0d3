"""Builders for Vigie's Airflow DAGs; the files in ``dags/`` only call these.

Why a module: DAG files stay thin and cheap to parse (this module imports Airflow's SDK,
pydantic and yaml, nothing else at module level); all work happens inside task callables that
import the heavy parts (dbt, GX, DuckDB, pyarrow) when they run.

The chain, per night D (DECISIONLOG Part 1 "Nights never mix"):

    vigie_extract_telephony ─┐   partition "D" of
    vigie_extract_email     ─┼─► vigie://landing/<family> ─► vigie_night [D]:
    vigie_extract_ticketing ─┘   (all families, same D)       dbt_build ─► validate ─┬─► send_digests
                                                               (marts)     (checks)  └─► publish_snapshot
                                                                                          ─► publish_postgres

- The extract DAGs run on ``CronPartitionTimetable("0 2 * * *", run_offset=-1)`` in the
  collectivité's zone: the run that starts at 02:00 on D+1 carries the partition key ``D``.
- Each extract DAG announces its family's landing for night D (``land_night``, asset event with
  partition key D) once every source task has finished, landed or failed: a failed source
  leaves a ``_FAILED.json`` marker (connectors.landing_layout.record_failed_extract) after its
  retries (``schedule.wait_minutes``), so the night is built with what landed, that source's
  days are incomplete, and the DAG run still ends failed (``all_sources_landed``).
- ``vigie_night`` is a partitioned-asset DAG: the scheduler creates its run for D only when
  every configured family has an event for D. Its four steps share one DAG run, and
  ``max_active_runs=1``: no other night can rebuild the warehouse between a night's transform
  and its checks, alerts and snapshot.

Every task that opens the DuckDB warehouse runs in the one-slot pool ``vigie_duckdb`` and, under
the CeleryExecutor, on the queue ``duckdb`` (one worker serves it; docs/production.md).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from airflow.sdk import (
    DAG,
    Asset,
    AssetAll,
    CronPartitionTimetable,
    PartitionedAssetTimetable,
    TriggerRule,
    task,
)

from vigie import source_types
from vigie.config import VigieConfig, load_config
from vigie.intervals import NIGHTLY_CRON

PROJECT_DIR = Path(__file__).resolve().parent.parent
DUCKDB_POOL = "vigie_duckdb"
# Celery queue of every DuckDB writer; LocalExecutor ignores queues.
DUCKDB_QUEUE = os.environ.get("VIGIE_DUCKDB_QUEUE", "duckdb")
# One extract DAG and one landing asset per family of source types (vigie/source_types.py).
FAMILIES: dict[str, tuple[str, ...]] = source_types.families()
LANDING_ASSETS = {family: Asset(f"vigie://landing/{family}") for family in FAMILIES}
MARTS_ASSET = Asset("vigie://warehouse/marts")
CHECKS_ASSET = Asset("vigie://checks/passed")
SNAPSHOT_ASSET = Asset("vigie://bi/snapshot")
NIGHT_DAG_ID = "vigie_night"
DEFAULT_START_DATE = dt.date(2024, 1, 1)


def config_path() -> Path:
    """The configuration the DAGs run: ``VIGIE_CONFIG``, else the demo's ``config/vigie.yml``."""
    return Path(os.environ.get("VIGIE_CONFIG", PROJECT_DIR / "config" / "vigie.yml")).resolve()


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> VigieConfig:
    return load_config(path)


def current_config() -> VigieConfig:
    path = config_path()
    return _load(str(path), path.stat().st_mtime)


def start_date() -> dt.datetime:
    """First night the scheduler may run: ``VIGIE_START_DATE`` (ISO date), else 2024-01-01.

    With ``VIGIE_CATCHUP=true`` the scheduler runs every night from there on its own (a first
    backfill, or the production smoke's two nights); otherwise only the latest night."""
    raw = os.environ.get("VIGIE_START_DATE", "").strip()
    day = dt.date.fromisoformat(raw) if raw else DEFAULT_START_DATE
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def catchup() -> bool:
    return os.environ.get("VIGIE_CATCHUP", "").strip().lower() in ("1", "true", "yes", "on")


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


def _mark(context: dict[str, Any], asset: Asset, day: dt.date, **extra: Any) -> None:
    """Key the asset event by the night: partition key ``D`` (what ``vigie_night`` waits for)
    and ``extra["day"]``. The key is set explicitly, so a run triggered by hand with only a
    conf or a logical date still announces the night it processed."""
    event = context["outlet_events"][asset]
    event.add_partitions(day.isoformat())
    event.extra = {"day": day.isoformat(), **extra}


def families_with_sources(cfg: VigieConfig) -> list[str]:
    return [f for f, types in FAMILIES.items() if cfg.sources_of(*types)]


def nightly_partitions(cfg: VigieConfig) -> CronPartitionTimetable:
    """02:00 local every day; the run of D+1 02:00 carries partition key ``D`` (its night)."""
    return CronPartitionTimetable(
        NIGHTLY_CRON, timezone=cfg.collectivite.timezone, run_offset=-1, key_format="%Y-%m-%d"
    )


def latest_night(cfg: VigieConfig, now: dt.datetime | None = None) -> dt.date:
    """The newest night whose day has ended: yesterday, in the collectivité's zone."""
    import zoneinfo

    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(zoneinfo.ZoneInfo(cfg.collectivite.timezone)).date() - dt.timedelta(days=1)


DayRule = Callable[[dict[str, Any], VigieConfig], dt.date]


def _dropped_export_day(context: dict[str, Any], cfg: VigieConfig) -> dt.date:
    """A run started by a dropped export lands the newest ended night (a conf or partition key
    given by hand still wins)."""
    dag_run = context.get("dag_run")
    if (getattr(dag_run, "conf", None) or {}).get("day") or getattr(dag_run, "partition_key", None):
        return _night_day(context, cfg)
    run_after = getattr(dag_run, "run_after", None)
    return latest_night(cfg, run_after)


def _extract_one(source_id: str, context: dict[str, Any], day_of: DayRule) -> dict[str, Any]:
    """Land one night of one source; on failure leave the night's failure marker, then raise
    (Airflow retries; the marker goes away when a retry lands)."""
    from connectors.extract import land_source_night

    conf = current_config()
    day = day_of(context, conf)
    batch = land_source_night(conf, source_id, day)
    return {
        "day": day.isoformat(),
        "rows": batch.row_counts,
        "rejects": batch.reject_count,
        "path": str(batch.path),
    }


def _failed_sources(conf: VigieConfig, source_ids: list[str], day: dt.date) -> dict[str, str]:
    from connectors.landing_layout import failed_extract, landing_root

    root = landing_root(conf)
    out = {}
    for source_id in source_ids:
        marker = failed_extract(root, source_id, day)
        if marker is not None:
            out[source_id] = str(marker.get("error", ""))
    return out


def build_extract_dag(family: str) -> DAG:
    """The nightly extract DAG of one family: every source of the family, every night."""
    cfg = current_config()
    return _extract_dag(
        cfg,
        dag_id=f"vigie_extract_{family}",
        family=family,
        source_ids=[s.id for s in cfg.sources_of(*FAMILIES[family])],
        schedule=nightly_partitions(cfg),
        description=f"Land one night of every {family} source (Parquet, atomic, with rejects)",
        day_of=_night_day,
    )


def _extract_dag(
    cfg: VigieConfig,
    *,
    dag_id: str,
    family: str,
    source_ids: list[str],
    schedule: Any,
    description: str,
    day_of: DayRule,
) -> DAG:
    """Extract tasks, then ``land_night`` (the family's event for the night), then
    ``rebuild_night`` (every family's event, when the night was built already) and
    ``all_sources_landed`` (red when a source failed)."""
    asset = LANDING_ASSETS[family]
    local = bool(os.environ.get("VIGIE_LOCAL_RUN"))
    others = [LANDING_ASSETS[f] for f in families_with_sources(cfg) if f != family]
    with DAG(
        dag_id=dag_id,
        description=description,
        schedule=schedule,
        start_date=start_date(),
        catchup=catchup(),
        max_active_runs=1,
        default_args=_default_args(),
        tags=["vigie", "extract", family],
        doc_md=__doc__,
    ) as dag:
        extracts = []
        for source_id in source_ids:

            @task(
                task_id=f"extract_{source_id}",
                retries=0 if local else cfg.schedule.retries,
                retry_delay=dt.timedelta(minutes=cfg.schedule.retry_minutes),
            )
            def extract(source_id: str = source_id, **context: Any) -> dict[str, Any]:
                return _extract_one(source_id, context, day_of)

            extracts.append(extract())

        # In the one-slot pool: Airflow 3.3.2 creates two pending runs of vigie_night, neither
        # ever complete, when two families announce the same night within a millisecond
        # (apache/airflow#71070; seen in 3 of 7 production smokes). One announcement at a time.
        @task(task_id="land_night", outlets=[asset], trigger_rule=TriggerRule.ALL_DONE, retries=0,
              pool=DUCKDB_POOL)
        def land_night(**context: Any) -> dict[str, Any]:
            """Announce the family's night once every source task is done, landed or failed.

            Whether the night was built already is read now, before the announcement: only a
            landing that comes after the night's build needs ``rebuild_night`` (read later, the
            build this very announcement starts would look like an earlier one)."""
            from connectors.landing_layout import landing_root, night_built

            conf = current_config()
            day = day_of(context, conf)
            failed = _failed_sources(conf, source_ids, day)
            built = night_built(landing_root(conf), day)
            _mark(context, asset, day, failed_sources=sorted(failed))
            return {"day": day.isoformat(), "failed_sources": failed, "night_was_built": built}

        @task(task_id="all_sources_landed", trigger_rule=TriggerRule.ALL_DONE, retries=0)
        def all_sources_landed(**context: Any) -> str:
            """Keep the DAG run red when a source failed, though the night goes on without it."""
            from airflow.sdk.exceptions import AirflowFailException

            conf = current_config()
            day = day_of(context, conf)
            failed = _failed_sources(conf, source_ids, day)
            if failed:
                detail = "; ".join(f"{k}: {v}" for k, v in sorted(failed.items()))
                raise AirflowFailException(
                    f"night {day}: {len(failed)} {family} source(s) did not land ({detail}); the "
                    f"night is built without them and their days are marked incomplete. Fix the "
                    f"source, then clear the failed extract task of this run to land it."
                )
            return f"every {family} source landed night {day}"

        @task(task_id="rebuild_night", outlets=others, retries=0, pool=DUCKDB_POOL)
        def rebuild_night(**context: Any) -> str:
            """A family that lands a night already built announces the other families too, so
            the scheduler rebuilds that night (a cleared extract, a late register)."""
            from airflow.sdk.exceptions import AirflowSkipException

            conf = current_config()
            day = day_of(context, conf)
            announced = context["ti"].xcom_pull(task_ids="land_night") or {}
            if not announced.get("night_was_built"):
                raise AirflowSkipException(f"night {day} was not built when {family} landed it: "
                                           f"its first build takes this landing")
            for other in others:
                _mark(context, other, day, rebuild_for=family)
            return f"night {day} was built already: rebuilt with the new {family} landing"

        announce, verdict = land_night(), all_sources_landed()
        for e in extracts:
            e >> [announce, verdict]
        if others:
            announce >> rebuild_night()
    return dag


DROPPED_EXPORT_TYPES = source_types.type_names(lands_when_dropped=True)


def build_dropped_exports_dag() -> DAG | None:
    """Courrier registers and survey exports land when another system drops them, not only at
    02:00: an asset watcher per export (vigie.export_watch, run by the triggerer) starts this DAG,
    which lands the newest ended night of those sources and rebuilds it. None without such a
    source (no DAG)."""
    from airflow.sdk import AssetWatcher

    from connectors.landing_layout import WATCH_FILE, landing_root, source_state_path
    from vigie.export_watch import ExportFilesChanged

    cfg = current_config()
    sources = cfg.sources_of(*DROPPED_EXPORT_TYPES)
    if not sources:
        return None
    watched = [
        Asset(
            f"vigie://dropped/{s.id}",
            watchers=[AssetWatcher(
                name=f"vigie_dropped_{s.id}",
                trigger=ExportFilesChanged(
                    pattern=str(cfg.path(s.path)),
                    state_path=str(source_state_path(landing_root(cfg), s.id, WATCH_FILE)),
                    poll_seconds=float(cfg.schedule.export_poll_seconds),
                ),
            )],
        )
        for s in sources
    ]
    return _extract_dag(
        cfg,
        dag_id="vigie_extract_dropped_exports",
        family="ticketing",
        source_ids=[s.id for s in sources],
        schedule=watched,
        description="Land registers and survey exports when they are dropped, then rebuild the night",
        day_of=_dropped_export_day,
    )


def _step_task(
    task_id: str, step: Callable[[VigieConfig, dt.date], Any], outlet: Asset | None = None
) -> Any:
    """One warehouse step of the night: find the night's day, run ``step(cfg, day)``, announce
    ``outlet`` for that night. A step that raises (dbt failure, blocking checks) announces
    nothing and stops the steps after it."""

    @task(
        task_id=task_id,
        pool=DUCKDB_POOL,
        queue=DUCKDB_QUEUE,
        outlets=[outlet] if outlet is not None else [],
    )
    def run_step(**context: Any) -> Any:
        conf = current_config()
        day = _night_day(context, conf)
        result = step(conf, day)
        if outlet is not None:
            _mark(context, outlet, day)
        return _plain(result)

    return run_step()


# The steps import their heavy parts (dbt, GX, DuckDB) when they run, never at parse time.
def _transform_step(cfg: VigieConfig, day: dt.date) -> str:
    from connectors.landing_layout import landing_root, record_night_built
    from vigie.transform import run_transform

    run_transform(cfg, day)
    record_night_built(landing_root(cfg), day)
    return day.isoformat()


def _checks_step(cfg: VigieConfig, day: dt.date) -> Any:
    from expectations.run import run_checks

    return run_checks(cfg, day)  # raises on a blocking failure: no asset event


def _alerts_step(cfg: VigieConfig, day: dt.date) -> Any:
    from vigie.alerts import run_alerts

    return run_alerts(cfg, day)


def _later_night_published(cfg: VigieConfig, day: dt.date) -> str | None:
    """Why night D is not published, when a later night already is: a rebuild of an old night
    (a late source, a cleared task) must not take BI users back in time. One rule for the
    snapshot and PostgreSQL."""
    from vigie.publish import published_night

    current = published_night(cfg)
    if current is not None and current > day:
        return f"night {current} is published already; BI is not taken back to {day}"
    return None


def _publish_step(cfg: VigieConfig, day: dt.date) -> str:
    from vigie.publish import publish_snapshot

    return _later_night_published(cfg, day) or str(publish_snapshot(cfg, day))


def _publish_postgres_step(cfg: VigieConfig, day: dt.date) -> str | None:
    """The BI tables in PostgreSQL (``outputs.bi_postgres``; absent: nothing), after the
    snapshot, under the same rule."""
    from vigie.publish_postgres import publish_postgres

    if cfg.outputs.bi_postgres is None:
        return None
    return _later_night_published(cfg, day) or publish_postgres(cfg, day)


def build_night_dag() -> DAG:
    """Transform, checks, alerts and BI snapshot of one night, once its families have landed."""
    families = families_with_sources(current_config()) or list(FAMILIES)
    with DAG(
        dag_id=NIGHT_DAG_ID,
        description="One night: dbt build, checks and Data Docs, digests, BI snapshot",
        schedule=PartitionedAssetTimetable(
            assets=AssetAll(*[LANDING_ASSETS[f] for f in families])
        ),
        start_date=start_date(),
        catchup=False,
        max_active_runs=1,
        default_args=_default_args(),
        tags=["vigie", "dbt", "quality", "alerts", "bi"],
        doc_md=__doc__,
    ) as dag:
        transform = _step_task("dbt_build", _transform_step, MARTS_ASSET)
        checks = _step_task("validate", _checks_step, CHECKS_ASSET)
        alerts = _step_task("send_digests", _alerts_step)
        publish = _step_task("publish_snapshot", _publish_step, SNAPSHOT_ASSET)
        publish_pg = _step_task("publish_postgres", _publish_postgres_step)
        transform >> checks >> [alerts, publish]
        publish >> publish_pg
    return dag


def _plain(result: Any) -> Any:
    """An XCom-safe view of a result object (dataclass, dict or anything with __dict__)."""
    import dataclasses
    import json

    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    elif hasattr(result, "__dict__") and not isinstance(result, dict):
        result = vars(result)
    return json.loads(json.dumps(result, default=str))


EXTRACT_DAG_IDS = tuple(f"vigie_extract_{f}" for f in FAMILIES)
# Order in which `vigie run` drives the DAGs for one night.
NIGHTLY_ORDER = (*EXTRACT_DAG_IDS, NIGHT_DAG_ID)
