"""Run the real Airflow DAGs locally, one night after another, in one process.

Why in one process: ``airflow dags test`` pays several seconds of start-up per call, and an
asset event recorded by it does not run the downstream DAGs (docs/stack.md). Here Airflow's
metadata database (SQLite) is migrated once, the DAG folder is parsed once into a ``DagBag``,
then ``dag.test()`` runs each DAG of the chain for each night in order, with
``conf={"day": ...}``: the same DAGs and tasks the scheduler runs in production.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vigie.config import VigieConfig, load_config
from vigie.intervals import night_for_day

PROJECT_DIR = Path(__file__).resolve().parent.parent


class NightFailed(RuntimeError):
    """A DAG of the chain failed for a night; the message names the DAG, tasks and night."""


@dataclass
class RunReport:
    nights: list[dt.date] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # day -> what failed
    seconds: float = 0.0
    startup_seconds: float = 0.0
    seconds_landing: float = 0.0  # backfill mode: landing every night, before any build


def airflow_environment(cfg: VigieConfig, config_file: Path) -> dict[str, str]:
    """Environment for a local Airflow: SQLite metadata beside the warehouse, no examples."""
    home = os.environ.get("AIRFLOW_HOME") or str(
        cfg.path(cfg.outputs.warehouse).parent.parent / "airflow"
    )
    env = {
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("VIGIE_AIRFLOW_LOG_LEVEL", "WARNING"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # dbt's per-node lines would drown the one line per night; failures still raise with
        # every failed node named (vigie.transform.TransformFailed).
        "DBT_LOG_LEVEL": os.environ.get("DBT_LOG_LEVEL", "warn"),
        "VIGIE_CONFIG": str(config_file.resolve()),
        "VIGIE_LOCAL_RUN": "1",
    }
    if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in os.environ:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
    return env


def _prepare_airflow(dag_ids: tuple[str, ...]) -> dict[str, object]:
    """Migrate the metadata DB, create the DuckDB pool, parse the DAG folder once."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.pool import Pool
    from airflow.utils import db

    from vigie.airflow_dags import DUCKDB_POOL

    db.initdb()
    Pool.create_or_update_pool(
        DUCKDB_POOL, slots=1, description="Serialises every task that opens the DuckDB warehouse",
        include_deferred=False,
    )
    bag = DagBag(dag_folder=str(PROJECT_DIR / "dags"))
    if bag.import_errors:
        details = "\n".join(f"{k}: {v}" for k, v in bag.import_errors.items())
        raise NightFailed(f"DAG files failed to import:\n{details}")
    missing = [d for d in dag_ids if d not in bag.dags]
    if missing:
        raise NightFailed(f"DAGs not found in {PROJECT_DIR / 'dags'}: {missing}")
    return {d: bag.dags[d] for d in dag_ids}


def _local_run_setup(config_file: Path, start: dt.date, end: dt.date) -> VigieConfig:
    """Configuration, local Airflow environment, pseudonymisation key (one line if absent)."""
    cfg = load_config(config_file)
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    os.environ.update(airflow_environment(cfg, config_file))
    Path(os.environ["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    from vigie.secrets import pseudonymisation_key  # before the first night: one line if absent

    pseudonymisation_key(cfg)
    for name in ("airflow", "airflow.task", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return cfg


def run_nights(
    config_file: Path | str,
    start: dt.date,
    end: dt.date,
    *,
    echo: Callable[[str], None] = print,
    stop_on_failure: bool = False,
) -> RunReport:
    """Run every night from ``start`` to ``end`` (inclusive) through the DAG chain."""
    config_file = Path(config_file)
    cfg = _local_run_setup(config_file, start, end)

    from vigie.airflow_dags import NIGHTLY_ORDER

    report = RunReport()
    t0 = time.monotonic()
    dags = _prepare_airflow(NIGHTLY_ORDER)
    report.startup_seconds = time.monotonic() - t0
    echo(f"Airflow ready in {report.startup_seconds:.1f} s ({len(dags)} DAGs parsed once)")
    _run_range(cfg, dags, start, end, report, echo, stop_on_failure)
    report.seconds = time.monotonic() - t0
    return report


def _run_range(
    cfg: VigieConfig,
    dags: dict[str, object],
    start: dt.date,
    end: dt.date,
    report: RunReport,
    echo: Callable[[str], None],
    stop_on_failure: bool,
) -> None:
    """Run ``dags`` (in order) for every night from ``start`` to ``end``."""
    day = start
    while day <= end:
        t_night = time.monotonic()
        night = night_for_day(day, cfg.collectivite.timezone)
        timings: dict[str, float] = {}
        failure = _run_one_night(dags, night.logical_date, day, timings)
        report.nights.append(day)
        spent = time.monotonic() - t_night
        detail = ", ".join(f"{k.removeprefix('vigie_')} {v:.1f}" for k, v in timings.items())
        if failure:
            report.failed[day.isoformat()] = failure
            echo(f"night {day}: FAILED in {spent:.1f} s ({detail}): {failure}")
            if stop_on_failure:
                break
        else:
            echo(f"night {day}: ok in {spent:.1f} s ({detail})")
        _freeze_long_lived_objects()
        day += dt.timedelta(days=1)


_FROZEN = False


def _freeze_long_lived_objects() -> None:
    """After the process's first night: one full garbage collection, then every object still
    alive (the modules of Airflow, dbt, GX, pandas and what they cache) is left out of later
    collections (``gc.freeze``).

    WHY: the local runner holds about a million long-lived objects; each automatic full
    collection of a later night scanned them all again (0.9-1.0 s of a 9 s night at 28 days,
    measured with ``gc.callbacks``) to free only what that night made. Frozen objects are
    still freed by reference counting; only a cycle among them would stay, and the collection
    just before the freeze left none. Later nights' own garbage is collected as before."""
    global _FROZEN
    if _FROZEN:
        return
    import gc

    gc.collect()
    gc.freeze()
    _FROZEN = True


def _run_one_night(
    dags: dict[str, object], logical_date: dt.datetime, day: dt.date, timings: dict[str, float]
) -> str | None:
    """Run the chain for one night; return None, or what failed.

    As under the scheduler (DECISIONLOG Part 1 "Nights never mix"), a failed extract DAG does
    not stop the night: its sources left failure markers, the night is built with what landed
    and their days are incomplete; the night is still reported as failed. A failure of
    ``vigie_night`` (dbt, blocking checks, delivery) ends the night."""
    from airflow.utils.state import DagRunState

    from vigie.airflow_dags import EXTRACT_DAG_IDS

    failures = []
    for dag_id, dag in dags.items():
        t0 = time.monotonic()
        dr = dag.test(logical_date=logical_date, run_conf={"day": day.isoformat()})  # type: ignore[attr-defined]
        timings[dag_id] = time.monotonic() - t0
        if dr.state != DagRunState.SUCCESS:
            failed = [
                ti.task_id for ti in dr.get_task_instances() if ti.state not in ("success", "skipped")
            ]
            if dag_id in EXTRACT_DAG_IDS:
                failures.append(f"{dag_id} failed (tasks {failed}); the night was built without it")
                continue
            failures.append(f"{dag_id} failed (tasks {failed})")
            break
    return "; ".join(failures) or None


def backfill_nights(
    config_file: Path | str,
    start: dt.date,
    end: dt.date,
    *,
    echo: Callable[[str], None] = print,
) -> RunReport:
    """Backfill mode of ``vigie run --backfill``: the same tables as night by night, paying the
    warehouse steps only for the nights whose results last.

    1. Land every night of the range, source by source in night order, as the extract tasks
       do (``connectors.extract.land_source_night``: a source that fails leaves its night's
       failure marker and the backfill goes on, as under the scheduler), without Airflow.
    2. Alert ages count from the newest landed night (int_alert_candidates.is_recent): a night
       older than that minus ``alerts.max_age_days`` can send nothing. Such nights are not
       built on their own: every table they would write is rewritten by a later night (marts
       and intermediates are rebuilt; history rows of final periods are rewritten by every
       later night, and with everything landed no night freezes or purges before the newest;
       the commitment versions they saw are the configuration's, recorded with the range's
       first night below).
    3. ``vigie_night`` (dbt build, checks, digests, BI snapshot) runs through Airflow for each
       remaining night, in order; at least the last night of the range.

    With ``VIGIE_SEND_OLD_ALERTS`` every night may send, so every night is built.
    DECISIONLOG Part 1, "Backfill mode".
    """
    config_file = Path(config_file)
    cfg = _local_run_setup(config_file, start, end)
    report = RunReport()
    t0 = time.monotonic()
    _land_range(cfg, start, end, report, echo)

    from vigie.airflow_dags import NIGHT_DAG_ID
    from vigie.alerts import send_old_requested
    from vigie.alerts.collect import first_night_that_may_alert
    from vigie.retention import newest_landed_night

    if send_old_requested():
        first_built = start
    else:
        newest = newest_landed_night(cfg) or end
        first_built = min(max(start, first_night_that_may_alert(cfg, newest)), end)
    skipped = (first_built - start).days
    echo(f"backfill: {report.seconds_landing:.1f} s to land {(end - start).days + 1} nights; "
         f"building {(end - first_built).days + 1} night(s) from {first_built} "
         f"({skipped} older night(s) can send no alert: built within the later ones)")

    t_air = time.monotonic()
    dags = _prepare_airflow((NIGHT_DAG_ID,))
    report.startup_seconds = time.monotonic() - t_air
    landing_failed, report.failed = report.failed, {}
    _run_range(cfg, dags, first_built, end, report, echo, stop_on_failure=True)
    built_ok = not report.failed
    for day_iso, what in landing_failed.items():
        report.failed[day_iso] = "; ".join(filter(None, [what, report.failed.get(day_iso)]))
    if skipped and built_ok:
        from vigie.history import record_versions_seen

        record_versions_seen(cfg, start)
        _check_landing_only(cfg, start, first_built, report, echo)
    report.nights = sorted({*report.nights, *(start + dt.timedelta(days=i) for i in range(skipped))})
    report.seconds = time.monotonic() - t0
    return report


def land_nights(config_file: Path | str, start: dt.date, end: dt.date, *,
                echo: Callable[[str], None] = print) -> RunReport:
    """Land every night of the range and build nothing (the backfill mode's first step)."""
    config_file = Path(config_file)
    cfg = _local_run_setup(config_file, start, end)
    report = RunReport()
    _land_range(cfg, start, end, report, echo)
    report.seconds = report.seconds_landing
    return report


def _land_range(cfg: VigieConfig, start: dt.date, end: dt.date, report: RunReport,
                echo: Callable[[str], None]) -> None:
    """Land every night of the range, nightly sources only (those the extract DAGs read)."""
    from connectors.extract import land_source_night
    from vigie.airflow_dags import FAMILIES

    t0 = time.monotonic()
    source_ids = [s.id for types in FAMILIES.values() for s in cfg.sources_of(*types)]
    day = start
    while day <= end:
        for source_id in source_ids:
            try:
                land_source_night(cfg, source_id, day)
            except Exception as exc:  # the night goes on without it, as under the scheduler
                what = f"{source_id} did not land: {type(exc).__name__}: {exc}"
                report.failed[day.isoformat()] = "; ".join(filter(None, [report.failed.get(day.isoformat()), what]))
                echo(f"night {day}: {what}")
        day += dt.timedelta(days=1)
    report.seconds_landing = time.monotonic() - t0


def _check_landing_only(cfg: VigieConfig, start: dt.date, first_built: dt.date, report: RunReport,
                        echo: Callable[[str], None]) -> None:
    """The nights not built on their own: validate their landed batches (GX landing suites, one
    validation per source and table over the nights, a night a failure names validated alone;
    each night's summary; the data team told of a blocking failure as on any night), then note
    them built (their results are in the later nights')."""
    from connectors.landing_layout import landing_root, record_night_built
    from expectations.run import run_landing_checks

    t0 = time.monotonic()
    days = [start + dt.timedelta(days=i) for i in range((first_built - start).days)]
    for day, what in run_landing_checks(cfg, days).items():
        report.failed[day.isoformat()] = "; ".join(
            filter(None, [report.failed.get(day.isoformat()), f"landing checks failed: {what}"]))
        echo(f"night {day}: landing checks FAILED: {what}")
    for day in days:
        record_night_built(landing_root(cfg), day)
    echo(f"backfill: landing of {len(days)} older night(s) checked in {time.monotonic() - t0:.1f} s")
