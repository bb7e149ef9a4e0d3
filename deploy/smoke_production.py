"""Production smoke test: the Airflow components of ``docker-compose.yml``, run for real.

``make smoke-production`` (or ``python -m deploy.smoke_production``) does what a site does on
its first start, without Docker, on the loopback PostgreSQL:

1. a fresh metadata database ``vigie_smoke_<pid>`` (user postgres, trust);
2. a temporary site: the demo's sources for a few days (``vigie demo-data``), the site's own
   ``vigie.yml``, and a ``.env`` whose every secret is generated as ``.env.example`` says;
3. the environment, commands and health checks of the compose services, read from
   ``docker-compose.yml`` by ``deploy.compose_env`` (one source of truth) and moved onto this
   machine by its one documented mapping;
4. ``airflow-init``'s command (migrate, pool, check-config), then the API server, DAG processor,
   triggerer and scheduler as separate processes, each with its own ``AIRFLOW_HOME`` as each
   container has; every service's compose health check must pass;
5. one night triggered through the REST API (token from ``POST /auth/token``, then
   ``POST /api/v2/dags/{dag_id}/dagRuns`` for each extract DAG with ``conf={"day": D}``, the
   partition key D and no logical date), and the following nights run by the scheduler on its
   own timetable, up to the last night whose 02:00 has passed (``VIGIE_START_DATE`` two nights
   back and ``VIGIE_CATCHUP=true``: the smoke's only additions to compose's environment; the
   first scheduled night is read from the API, so the smoke follows the DAGs' timetable);
6. waits, polling the API, until every night's whole chain has finished (bounded, with progress);
7. compares the marts, the digests (modulo ``Date`` and ``Message-ID``) and the BI snapshot with
   what ``vigie run --from D --to D2`` gives on a fresh copy of the same sources.

The last line is ``production smoke: <n> nights ok`` or what failed. Every process the smoke
started is stopped (process groups: SIGINT, then SIGTERM, then SIGKILL), even on failure, and
the database is dropped. The temporary directory is removed on success and kept on failure
(its path is printed: component logs under ``logs/``).

Why the REST night comes first and the scheduler starts last: the REST night is queued, with
``run_after`` at its own 02:00, before the scheduler creates its nights; queued runs start in
``run_after`` order, so the nights run in day order, as ``vigie run`` runs them (a night's
alerts depend on the nights before it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any

import yaml
from cryptography.fernet import Fernet

from deploy.compose_env import (
    CELERY_FILE,
    COMPOSE_FILE,
    PROJECT_DIR,
    LocalPlacement,
    healthcheck_command,
    load_compose,
    read_env_file,
    service_command,
    service_environment,
    with_override,
)

BIN = Path(sys.executable).parent
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
INIT = "airflow-init"
API = "airflow-apiserver"
# Start order; the scheduler last (see the module docstring). Stopped in reverse order.
LONG_RUNNING = ("airflow-apiserver", "airflow-dag-processor", "airflow-triggerer",
                "airflow-scheduler")
EXTRACT_PREFIX = "vigie_extract_"
# Asset-watcher-driven, not nightly: left out of the nights the smoke triggers and counts.
EVENT_DRIVEN_EXTRACTS = frozenset({"vigie_extract_dropped_exports"})
ACTIVE = ("queued", "running")
SETTLE_SECONDS = 15.0
POLL_SECONDS = 5.0
IGNORED_HEADERS = ("date", "message-id")
SCHEDULED_NIGHTS = 2
# When the BI snapshot was published (snapshot_info): the only value two runs may differ by.
RUN_TIME_COLUMNS = frozenset({"published_at"})
DEMO_DAYS = 14


class SmokeFailed(RuntimeError):
    """What failed, in one line (the details were printed before)."""


def say(message: str) -> None:
    print(message, flush=True)


# --- the temporary site --------------------------------------------------------------------


def last_complete_night(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """The newest night whose 02:00 run time (local) has passed."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(zoneinfo.ZoneInfo(timezone))
    last_run_day = local.date() if local.time() >= dt.time(2) else local.date() - dt.timedelta(1)
    return last_run_day - dt.timedelta(days=1)


def first_scheduled_night(dags: list[dict[str, Any]], timezone: str) -> dt.date:
    """The first night the scheduler will run, read from the API before it starts: the extract
    DAGs' next run time (02:00 on D+1, local) minus one day, whatever the timetable class."""
    tz = zoneinfo.ZoneInfo(timezone)
    days = set()
    for dag in dags:
        if dag["dag_id"].startswith(EXTRACT_PREFIX) and dag["dag_id"] not in EVENT_DRIVEN_EXTRACTS:
            after = dag.get("next_dagrun_run_after")
            if not after:
                raise SmokeFailed(f"{dag['dag_id']} has no next run: is catch-up off?")
            when = dt.datetime.fromisoformat(after.replace("Z", "+00:00")).astimezone(tz)
            days.add(when.date() - dt.timedelta(days=1))
    if not days:
        raise SmokeFailed("no extract DAG (vigie_extract_*) in the API")
    return min(days)


def site_config(data_dir: Path) -> Path:
    """The site's own vigie.yml: the demo's collectivité, sources under ``sources/``, outputs
    under ``var/`` (the compose volumes), the key from the Airflow connection only."""
    data = yaml.safe_load((PROJECT_DIR / "config" / "vigie.yml").read_text(encoding="utf-8"))
    for source in data["sources"]:
        if isinstance(source.get("path"), str):
            source["path"] = source["path"].replace("../var/demo_sources/", "../sources/")
    data.setdefault("pseudonymisation", {}).pop("key_file", None)
    # The rest of the production path (deploy/smoke_scenarios.py): a courrier register whose
    # exports are dropped, and a source that is down is not waited for (one try).
    from deploy.smoke_scenarios import register_source

    data["sources"].append(register_source(data_dir / "sources"))
    data["schedule"] = {"wait_minutes": 0}
    path = data_dir / "config" / "vigie.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def generated_env_file(path: Path) -> dict[str, str]:
    """A .env as .env.example asks: every variable listed there, each secret generated."""
    example = read_env_file(PROJECT_DIR / ".env.example")
    key = secrets.token_urlsafe(32)
    values = {
        "POSTGRES_PASSWORD": secrets.token_urlsafe(32),
        "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW_API_SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW_ADMIN_USER": example.get("AIRFLOW_ADMIN_USER") or "admin",
        "AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(24),
        "VIGIE_PSEUDONYMISATION_CONN": json.dumps({"conn_type": "generic", "password": key}),
        "VIGIE_SMTP_CONN": "",
        "VIGIE_SITE_CONFIG_DIR": "./config",
    }
    missing = sorted(set(example) - set(values) - {"VIGIE_ASTERISK_DIR", "VIGIE_MAILDIR",
                                                   "VIGIE_REGISTERS_DIR"})
    if missing:
        raise SmokeFailed(f".env.example lists {missing}, which the smoke does not know how to set")
    for name in ("VIGIE_ASTERISK_DIR", "VIGIE_MAILDIR", "VIGIE_REGISTERS_DIR"):
        values[name] = example[name]
    path.write_text("".join(f"{k}='{v}'\n" for k, v in values.items()), encoding="utf-8")
    return read_env_file(path)


def base_environment() -> dict[str, str]:
    """What a container has before compose's environment: a PATH (the venv first), a home, a
    locale. Nothing of the caller's AIRFLOW_* or VIGIE_* leaks in."""
    keep = {k: os.environ[k] for k in ("HOME", "USER", "LANG", "TMPDIR") if k in os.environ}
    return {**keep, "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin", "TZ": "UTC",
            "PYTHONUNBUFFERED": "1"}


# --- processes -----------------------------------------------------------------------------


@dataclass
class Component:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self, cwd: Path) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(self.argv, cwd=cwd, env=self.env, stdout=handle,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def stop(self, grace: tuple[float, float, float] = (20.0, 10.0, 5.0)) -> None:
        """SIGINT to the whole process group (Airflow's components shut down cleanly on it),
        then SIGTERM, then SIGKILL, each after ``grace`` seconds: task processes and API
        workers are in the group, so none outlives the smoke."""
        if self.proc is None:
            return
        for sig, wait in zip((signal.SIGINT, signal.SIGTERM, signal.SIGKILL), grace, strict=True):
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if self.proc.poll() is not None and not _group_alive(self.proc.pid):
                    return
                time.sleep(0.2)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_checked(argv: list[str], env: dict[str, str], cwd: Path, log: Path, what: str,
                timeout: float = 600) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        proc = subprocess.run(argv, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT,
                              timeout=timeout, start_new_session=True)
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-60:])
        say(f"--- {what}: last lines of {log}\n{tail}")
        raise SmokeFailed(f"{what} exited with {proc.returncode}")


# --- PostgreSQL ----------------------------------------------------------------------------


# Metadata tables dumped (CSV) when the smoke fails, before the database is dropped: what the
# scheduler decided (runs, task instances, asset events and their partitions, the event log).
DUMPED_TABLES = ("dag_run", "task_instance", "asset_event", "asset_partition_dag_run",
                 "partitioned_asset_key_log", "asset_dag_run_queue", "log")


@contextmanager
def temporary_database(name: str, dump_dir: Path | None = None) -> Iterator[str]:
    """A fresh metadata database, dropped on the way out; on failure its scheduling tables are
    first dumped to ``dump_dir`` so the failure can be understood after the drop."""
    import psycopg2

    def execute(sql: str) -> None:
        con = psycopg2.connect(dbname="postgres", **PG)
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute(sql)
        finally:
            con.close()

    try:
        execute(f'CREATE DATABASE "{name}"')
    except psycopg2.OperationalError as exc:
        raise SmokeFailed(f"PostgreSQL on {PG['host']}:{PG['port']} (user postgres) is not "
                          f"reachable: {exc}".strip()) from None
    try:
        yield name
    except BaseException:
        if dump_dir is not None:
            dump_tables(name, dump_dir)
        raise
    finally:
        try:
            execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as exc:  # report, never mask the smoke's own failure
            say(f"warning: could not drop database {name}: {exc}")


def dump_tables(database: str, target: Path) -> None:
    import psycopg2

    target.mkdir(parents=True, exist_ok=True)
    try:
        con = psycopg2.connect(dbname=database, **PG)
    except psycopg2.Error as exc:
        say(f"warning: metadata not dumped ({exc})")
        return
    try:
        con.autocommit = True
        with con.cursor() as cur:
            for table in DUMPED_TABLES:
                cur.execute("select to_regclass(%s)", (table,))
                if cur.fetchone()[0] is None:
                    continue
                with (target / f"{table}.csv").open("w", encoding="utf-8") as handle:
                    cur.copy_expert(f'COPY "{table}" TO STDOUT WITH CSV HEADER', handle)
    finally:
        con.close()
    say(f"metadata tables dumped to {target}")


# --- the REST API --------------------------------------------------------------------------


class Api:
    """The few REST calls the smoke makes, with a bearer token from ``POST /auth/token``."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None, accept: str = "application/json",
             timeout: float = 30) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", accept)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        if accept != "application/json":
            return raw.decode("utf-8", errors="replace")
        return json.loads(raw) if raw else None

    def login(self, user: str, password: str) -> None:
        self.token = None
        self.token = self.call("POST", "/auth/token",
                               {"username": user, "password": password})["access_token"]

    def dags(self) -> list[dict[str, Any]]:
        return self.call("GET", "/api/v2/dags?limit=100")["dags"]

    def dag_runs(self) -> list[dict[str, Any]]:
        return self.call("GET", "/api/v2/dags/~/dagRuns?limit=1000")["dag_runs"]

    def task_instances(self, states: tuple[str, ...]) -> list[dict[str, Any]]:
        query = "&".join(f"state={s}" for s in states)
        return self.call("GET", f"/api/v2/dags/~/dagRuns/~/taskInstances?limit=200&{query}")[
            "task_instances"]

    def task_log(self, ti: dict[str, Any]) -> str:
        path = (f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/"
                f"{ti['task_id']}/logs/{max(ti.get('try_number') or 1, 1)}?full_content=true")
        try:
            return self.call("GET", path, accept="application/x-ndjson")
        except (urllib.error.URLError, OSError) as exc:
            return f"(task log not readable through the API: {exc})"


def dag_ids(env: dict[str, str], cwd: Path, log: Path) -> list[str]:
    """The DAG ids the DAG folder defines with this environment (a DagBag in a subprocess):
    what the API must list before anything is triggered. A DAG file may define none."""
    code = ("import json, os; from airflow.dag_processing.dagbag import DagBag; "
            "b = DagBag(dag_folder=os.environ['AIRFLOW__CORE__DAGS_FOLDER'], "
            "); "
            "print(json.dumps({'ids': sorted(b.dag_ids), 'errors': b.import_errors}))")
    run_checked([str(BIN / "python"), "-c", code], env, cwd, log, "parsing the DAG folder")
    last = log.read_text(encoding="utf-8").strip().splitlines()[-1]
    found = json.loads(last)
    if found["errors"]:
        raise SmokeFailed(f"DAG import errors: {found['errors']}")
    if not found["ids"]:
        raise SmokeFailed("the DAG folder defines no DAG")
    return found["ids"]


def listed_dags(api: Api, expected: list[str]) -> list[dict[str, Any]] | None:
    """The API's DAGs once every expected one is listed, else None."""
    dags = api.dags()
    return dags if {d["dag_id"] for d in dags} >= set(expected) else None


def wait_until(what: str, check: Callable[[], Any], timeout: float, components: list[Component],
               every: float = 1.0) -> Any:
    """Poll ``check`` until it returns a truthy value; fail on timeout or a dead component."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        dead_component(components)
        try:
            result = check()
            if result:
                return result
        except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
            last_error = exc
        time.sleep(every)
    raise SmokeFailed(f"timed out after {timeout:.0f} s waiting for {what}"
                      + (f" (last error: {last_error})" if last_error else ""))


def dead_component(components: list[Component]) -> None:
    for comp in components:
        if comp.proc is not None and not comp.alive():
            say(f"--- {comp.name} exited with {comp.proc.returncode}; last lines of {comp.log}:\n"
                f"{comp.tail()}")
            raise SmokeFailed(f"{comp.name} exited with {comp.proc.returncode}")


def run_night(run: dict[str, Any], timezone: str) -> str:
    """The night a DAG run processes: conf ``day``, partition key, or its interval's local day."""
    conf = run.get("conf") or {}
    if conf.get("day"):
        return str(conf["day"])
    if run.get("partition_key"):
        return str(run["partition_key"])[:10]
    start = run.get("data_interval_start")
    if start and run.get("run_type") == "scheduled":
        when = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        return when.astimezone(zoneinfo.ZoneInfo(timezone)).date().isoformat()
    return "?"


def trigger_night(api: Api, dags: list[dict[str, Any]], day: dt.date, timezone: str) -> None:
    """Process night ``day`` through the REST API: every extract DAG, ``conf={"day": D}``, the
    partition key D where the DAG is partitioned, and NO logical date.

    Why no logical date: Airflow creates no task instance for a task whose start date is after
    the run's logical date, and then marks the empty run successful: a night before the DAGs'
    start date (``VIGIE_START_DATE``) given a logical date would silently do nothing."""
    run_time = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(2),
                                   tzinfo=zoneinfo.ZoneInfo(timezone))
    for dag in dags:
        if not dag["dag_id"].startswith(EXTRACT_PREFIX) or dag["dag_id"] in EVENT_DRIVEN_EXTRACTS:
            continue
        body: dict[str, Any] = {
            "dag_run_id": f"manual__smoke_{day.isoformat()}",
            "logical_date": None,
            # Queued at the time night D would run: before the later nights (the scheduler starts
            # queued runs in run_after order), as vigie run runs them.
            "run_after": run_time.astimezone(dt.UTC).isoformat(),
            "conf": {"day": day.isoformat()},
            "note": "production smoke: one night through the REST API",
        }
        if dag.get("timetable_partitioned"):
            body["partition_key"] = day.isoformat()
        try:
            api.call("POST", f"/api/v2/dags/{dag['dag_id']}/dagRuns", body)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")[:500]
            raise SmokeFailed(f"POST dagRuns for {dag['dag_id']} answered {exc.code}: {detail}") from None


@dataclass
class Progress:
    last_line: str = ""
    last_change: float = field(default_factory=time.monotonic)
    started: float = field(default_factory=time.monotonic)


def chain_status(api: Api, timezone: str, rest_night: dt.date, scheduled: set[str],
                 progress: Progress) -> bool:
    """True once each extract DAG succeeded exactly once for the REST night (its manual run)
    and once for each scheduled night (scheduled runs), and nothing has been queued or running
    for ``SETTLE_SECONDS`` (asset-triggered runs appear a few seconds after their producer).
    Raises on a failed run, a task waiting for a retry, or a night not asked for."""
    runs = api.dag_runs()
    bad = api.task_instances(("failed", "up_for_retry", "upstream_failed"))
    if bad:
        for ti in bad[:3]:
            say(f"--- task {ti['dag_id']}.{ti['task_id']} ({ti['dag_run_id']}) is {ti['state']}; "
                f"its log through the API:\n{tail_lines(api.task_log(ti), 60)}")
        raise SmokeFailed(f"task {bad[0]['dag_id']}.{bad[0]['task_id']} of run "
                          f"{bad[0]['dag_run_id']} is {bad[0]['state']}")
    failed = [r for r in runs if r["state"] == "failed"]
    if failed:
        raise SmokeFailed(f"DAG run {failed[0]['dag_id']} {failed[0]['dag_run_id']} failed")
    by_dag: dict[str, list[str]] = {}
    done: dict[str, list[tuple[str, str]]] = {}
    for r in runs:
        night = run_night(r, timezone)
        if r["dag_id"].startswith(EXTRACT_PREFIX):
            allowed = {rest_night.isoformat()} if r["run_type"] == "manual" else scheduled
            if night not in allowed:
                raise SmokeFailed(f"{r['dag_id']} {r['run_type']} run {r['dag_run_id']} is for "
                                  f"night {night}, expected one of {sorted(allowed)}")
            if r["state"] == "success":
                done.setdefault(r["dag_id"], []).append((r["run_type"], night))
        by_dag.setdefault(r["dag_id"], []).append(f"{night[5:]} {r['state']}")
    line = " | ".join(f"{d.removeprefix('vigie_')}: {_compact(v)}" for d, v in sorted(by_dag.items()))
    now = time.monotonic()
    if line != progress.last_line:
        say(f"  t+{now - progress.started:4.0f} s  {line}")
        progress.last_line, progress.last_change = line, now
    want = sorted([("manual", rest_night.isoformat())] + [("scheduled", n) for n in scheduled])
    extract_dags = {r["dag_id"] for r in runs if r["dag_id"].startswith(EXTRACT_PREFIX)}
    extracts_done = bool(extract_dags) and all(sorted(done.get(d, [])) == want
                                               for d in extract_dags)
    active = any(r["state"] in ACTIVE for r in runs)
    return extracts_done and not active and now - progress.last_change >= SETTLE_SECONDS


def _compact(runs: list[str]) -> str:
    """'12-03 success, 12-04 running' -> 'ok 12-03; running 12-04' (one line per poll)."""
    by_state: dict[str, list[str]] = {}
    for item in runs:
        night, state = item.split(" ", 1)
        by_state.setdefault("ok" if state == "success" else state, []).append(night)
    return "; ".join(f"{state} {','.join(nights)}" for state, nights in by_state.items())


def nights_not_built(runs: list[dict[str, Any]], timezone: str, nights: list[str]) -> list[str]:
    """Downstream DAGs keyed by night (partition key or conf) that skipped one of the nights.
    Asset-triggered runs that carry no night cannot be judged here: the outputs judge them."""
    problems = []
    for dag_id in sorted({r["dag_id"] for r in runs} - {r["dag_id"] for r in runs
                                                        if r["dag_id"].startswith(EXTRACT_PREFIX)}):
        done = {run_night(r, timezone) for r in runs if r["dag_id"] == dag_id
                and r["state"] == "success"}
        if "?" in done or not done:
            continue
        missing = [n for n in nights if n not in done]
        if missing:
            problems.append(f"{dag_id} never ran night(s) {', '.join(missing)} "
                            f"(ran {', '.join(sorted(done))})")
    return problems


def task_log_problems(api: Api) -> list[str]:
    """A finished task's log must read through the REST API (what the UI shows): the shared
    secret key and log folder of the compose file make that work."""
    done = api.task_instances(("success",))
    if not done:
        return ["no successful task instance to read a log from"]
    ti = done[0]
    text = api.task_log(ti)
    if ti["task_id"] not in text or "not readable" in text:
        return [f"the log of {ti['dag_id']}.{ti['task_id']} ({ti['dag_run_id']}) does not read "
                f"through the API: {tail_lines(text, 5)[:500]}"]
    return []


def tail_lines(text: str, n: int) -> str:
    return "\n".join(text.splitlines()[-n:])


# --- comparing outputs ---------------------------------------------------------------------


def duckdb_tables(path: Path, schemas: tuple[str, ...] | None) -> dict[str, list[tuple]]:
    """Every base table's rows (sorted), without the columns that record when a run happened
    (``RUN_TIME_COLUMNS``): two runs of the same nights differ there and nowhere else."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' order by 1, 2").fetchall()
        out = {}
        for schema, table in names:
            if schemas is not None and schema not in schemas:
                continue
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? "
                "and table_name = ? order by ordinal_position", [schema, table]).fetchall()
                if c not in RUN_TIME_COLUMNS]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {select} from "{schema}"."{table}"').fetchall()
            out[f"{schema}.{table}"] = sorted((tuple(_comparable(v) for v in row) for row in rows),
                                              key=repr)
        return out
    finally:
        con.close()


def _comparable(value: Any) -> Any:
    """A value as compared: doubles to 12 significant digits. DuckDB sums doubles in parallel,
    so a mean can differ in its last bit between two builds of the same rows
    (2.170829475308642 against 2.1708294753086417); no indicator is read to 12 digits."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, list | tuple):
        return type(value)(_comparable(v) for v in value)
    return value


def compare_tables(what: str, got: dict[str, list[tuple]], want: dict[str, list[tuple]]) -> list[str]:
    problems = []
    if set(got) != set(want):
        problems.append(f"{what}: tables differ: only in production {sorted(set(got) - set(want))}, "
                        f"only in vigie run {sorted(set(want) - set(got))}")
    for name in sorted(set(got) & set(want)):
        if got[name] != want[name]:
            extra = [r for r in got[name] if r not in want[name]][:2]
            problems.append(f"{what} {name}: {len(got[name])} rows in production, "
                            f"{len(want[name])} in vigie run; e.g. production only: {extra}")
    if not want:
        problems.append(f"{what}: vigie run produced no table at all")
    return problems


def digest_fingerprints(outbox: Path) -> dict[str, str]:
    """Each .eml, keyed by its path under the outbox, hashed without what records when and how
    it was written rather than what it says: the Date and Message-ID headers and the MIME
    boundaries (random per message). Every other header, part type and decoded payload counts."""
    out = {}
    for path in sorted(outbox.rglob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        h = hashlib.sha256()
        for part in msg.walk():
            for key, value in part.items():
                if key.lower() in IGNORED_HEADERS:
                    continue
                if key.lower() == "content-type":
                    params = sorted((k, v) for k, v in part.get_params()[1:] if k != "boundary")
                    value = f"{part.get_content_type()} {params}"
                h.update(f"{key.lower()}: {value}\n".encode())
            if not part.is_multipart():
                h.update(part.get_payload(decode=True) or b"")
        out[str(path.relative_to(outbox))] = h.hexdigest()
    return out


def compare_outputs(prod: Path, ref: Path) -> tuple[list[str], str]:
    problems: list[str] = []
    wh_prod = duckdb_tables(prod / "var" / "warehouse" / "vigie.duckdb", ("marts", "history"))
    wh_ref = duckdb_tables(ref / "var" / "warehouse" / "vigie.duckdb", ("marts", "history"))
    problems += compare_tables("warehouse", wh_prod, wh_ref)
    bi_prod = duckdb_tables(prod / "var" / "bi" / "vigie_bi.duckdb", None)
    bi_ref = duckdb_tables(ref / "var" / "bi" / "vigie_bi.duckdb", None)
    problems += compare_tables("BI snapshot", bi_prod, bi_ref)
    dg_prod = digest_fingerprints(prod / "var" / "outbox")
    dg_ref = digest_fingerprints(ref / "var" / "outbox")
    if dg_prod != dg_ref:
        differ = sorted(k for k in set(dg_prod) | set(dg_ref) if dg_prod.get(k) != dg_ref.get(k))
        problems.append(f"digests: {len(dg_prod)} in production, {len(dg_ref)} from vigie run; "
                        f"differing: {differ[:5]}")
    summary = (f"{len(wh_ref)} warehouse tables ({sum(map(len, wh_ref.values()))} rows), "
               f"{len(bi_ref)} snapshot tables, {len(dg_ref)} digests")
    return problems, summary


# --- the smoke -----------------------------------------------------------------------------


CELERY_WORKERS = ("airflow-worker-warehouse", "airflow-worker-extract")


def _scheduled_nights(api: Api, dags: list[dict], tz: str, wanted_first: dt.date,
                      last_night: dt.date) -> tuple[dt.date, list[dt.date]]:
    """The first scheduled night and every night the scheduler will run, once the DAGs are
    listed: fails on an import error, a DAG paused on first start, or no night to run."""
    errors = api.call("GET", "/api/v2/importErrors")["import_errors"]
    if errors:
        raise SmokeFailed(f"DAG import errors: {errors[0]['filename']}: "
                          f"{errors[0]['stack_trace'][-500:]}")
    paused = [d["dag_id"] for d in dags if d["is_paused"]]
    if paused:
        raise SmokeFailed(f"DAGs paused on first start: {paused}")
    first = first_scheduled_night(dags, tz)
    scheduled = [first + dt.timedelta(days=i) for i in range((last_night - first).days + 1)]
    if first != wanted_first:
        say(f"note: VIGIE_START_DATE={wanted_first} gives a first scheduled night of "
            f"{first}, not {wanted_first}: the scheduler will run {len(scheduled)} nights")
    if not scheduled:
        raise SmokeFailed(f"the scheduler would run no night (first {first}, "
                          f"last complete {last_night})")
    return first, scheduled


def _wait_for_health_checks(compose: dict, long_running: list[str],
                            placement: Callable[[str], LocalPlacement],
                            environment: Callable[[str], dict[str, str]], prod: Path,
                            components: list[Component]) -> None:
    """Every long-running service's compose health check passes, run as compose runs it."""
    for name in long_running:
        # The workers' check pings their Celery node name, made from the container's
        # hostname; here they are judged by the tasks they ran (below).
        check = None if name in CELERY_WORKERS else healthcheck_command(compose, name)
        if check:
            argv, env = placement(name).argv(check), environment(name)
            wait_until(f"{name}'s compose health check ({' '.join(check)})",
                       lambda a=argv, e=env: subprocess.run(
                           a, env=e, cwd=prod, capture_output=True, timeout=120
                       ).returncode == 0, 180, components, every=5)


def smoke(workdir: Path, timeout: float, scenarios: bool = True, celery: bool = False) -> int:
    """The nights against ``vigie run``; then, unless ``scenarios`` is off, the rest of the
    production path (deploy/smoke_scenarios.py). ``celery``: the compose file with
    ``docker-compose.celery.yml`` (Redis on loopback, both workers as processes)."""
    t0 = time.monotonic()
    compose = load_compose(COMPOSE_FILE)
    long_running = list(LONG_RUNNING)
    if celery:
        compose = with_override(compose, load_compose(CELERY_FILE))
        long_running = [*LONG_RUNNING[:-1], *CELERY_WORKERS, LONG_RUNNING[-1]]
    prod, ref = workdir / "prod", workdir / "ref"
    logs = workdir / "logs"
    for d in (prod, ref, logs):
        d.mkdir(parents=True, exist_ok=True)
    variables = generated_env_file(prod / ".env")
    config = site_config(prod)
    from vigie.config import load_config

    tz = load_config(config).collectivite.timezone
    last_night = last_complete_night(tz)
    wanted_first = last_night - dt.timedelta(days=SCHEDULED_NIGHTS - 1)

    # Sources: the demo's, two weeks up to the last complete night.
    base = base_environment()
    run_checked([str(BIN / "vigie"), "demo-data", "--config", str(config), "--from",
                 (last_night - dt.timedelta(days=DEMO_DAYS - 1)).isoformat(), "--to",
                 last_night.isoformat()], base, prod, logs / "demo-data.log", "vigie demo-data")
    from deploy.smoke_scenarios import write_register

    write_register(prod / "sources" / "registers" / "registre-initial.csv",
                   [("C-0001", last_night - dt.timedelta(days=9), last_night - dt.timedelta(days=2),
                     "Urbanisme")])
    shutil.copytree(prod / "sources", ref / "sources")
    ref_config = site_config(ref)

    api_port = free_port()
    with temporary_database(f"vigie_smoke_{os.getpid()}", logs / "metadata") as database:
        shared_ports = {"worker_log_port": free_port(), "trigger_log_port": free_port()}

        # Each Celery worker serves its logs on a port of its own (in containers they share the
        # number, not the host); the API server reads the shared log folder first anyway.
        worker_ports = {w: free_port() for w in CELERY_WORKERS}

        def placement(name: str) -> LocalPlacement:
            ports = {**shared_ports, **({"worker_log_port": worker_ports[name]}
                                        if name in worker_ports else {})}
            return LocalPlacement(data_dir=prod, home=workdir / "homes" / name,
                                  logs_dir=logs / "airflow", api_port=api_port, database=database,
                                  **ports)

        def environment(name: str) -> dict[str, str]:
            where = placement(name)
            env = {**base, **where.environment(service_environment(compose, name, variables)),
                   **where.local_overrides(),
                   # The smoke's only additions: its first night, on the scheduler's timetable.
                   "VIGIE_START_DATE": wanted_first.isoformat(), "VIGIE_CATCHUP": "true"}
            Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
            return env

        components = [Component(name, placement(name).argv(service_command(compose, name)),
                                environment(name), logs / f"{name}.log") for name in long_running]
        reference: Component | None = None
        unbuilt: list[str] = []
        try:
            t_init = time.monotonic()
            run_checked(placement(INIT).argv(service_command(compose, INIT)), environment(INIT),
                        prod, logs / f"{INIT}.log", INIT)
            say(f"{INIT} (migrate, pool, check-config): {time.monotonic() - t_init:.0f} s")

            expected = dag_ids(environment(INIT), prod, logs / "dagbag.log")
            by_name = {c.name: c for c in components}
            for name in long_running[:-1]:
                by_name[name].start(prod)
            api = Api(f"http://127.0.0.1:{api_port}")
            wait_until("the API server's health", lambda: api.call(
                "GET", "/api/v2/monitor/health").get("metadatabase", {}).get("status") == "healthy",
                180, components)
            api.login(variables["AIRFLOW_ADMIN_USER"], variables["AIRFLOW_ADMIN_PASSWORD"])
            dags = wait_until(f"the DAGs {', '.join(expected)} in the API",
                              lambda: listed_dags(api, expected), 240, components)
            first, scheduled = _scheduled_nights(api, dags, tz, wanted_first, last_night)
            rest_night = first - dt.timedelta(days=1)
            nights = [rest_night, *scheduled]
            say(f"API up, {len(dags)} DAGs parsed and unpaused, t+{time.monotonic() - t0:.0f} s; "
                f"night {rest_night} through the REST API, {', '.join(map(str, scheduled))} "
                f"by the scheduler")

            # The reference: `vigie run` on a fresh copy of the sources, same key, meanwhile.
            reference = Component("vigie run (reference)", [
                str(BIN / "vigie"), "run", "--config", str(ref_config), "--from",
                nights[0].isoformat(), "--to", nights[-1].isoformat()],
                {**base, "AIRFLOW_HOME": str(ref / "airflow_home"),
                 "AIRFLOW_CONN_VIGIE_PSEUDONYMISATION": variables["VIGIE_PSEUDONYMISATION_CONN"]},
                logs / "reference.log")
            reference.start(ref)

            trigger_night(api, dags, rest_night, tz)
            by_name[long_running[-1]].start(prod)
            say(f"night {rest_night} triggered through the REST API; scheduler started")

            _wait_for_health_checks(compose, long_running, placement, environment, prod, components)
            say(f"every compose health check passes, t+{time.monotonic() - t0:.0f} s")

            t_chain = time.monotonic()
            progress = Progress()
            wait_until("every night's whole chain", lambda: chain_status(
                api, tz, rest_night, {n.isoformat() for n in scheduled}, progress), timeout,
                components, every=POLL_SECONDS)
            say(f"{len(nights)} nights through the chain in {time.monotonic() - t_chain:.0f} s")
            unbuilt = nights_not_built(api.dag_runs(), tz, [n.isoformat() for n in nights])
            unbuilt += task_log_problems(api)

            summary = compare_with_reference(prod, ref, reference, nights, unbuilt, timeout)
            say(f"same as vigie run --from {nights[0]} --to {nights[-1]}: {summary}, "
                f"t+{time.monotonic() - t0:.0f} s")
            if celery:
                say(celery_routing(logs))
            if scenarios:
                from deploy import smoke_scenarios as sc

                site = sc.Site(api=api, tz=tz, prod=prod, logs=logs, components=components,
                               dags=api.dags(), cli_env=environment(long_running[-1]))
                ref_env = {**base, "AIRFLOW_HOME": str(workdir / "ref_backfill" / "airflow_home"),
                           "AIRFLOW_CONN_VIGIE_PSEUDONYMISATION":
                               variables["VIGIE_PSEUDONYMISATION_CONN"]}
                ref_backfill = workdir / "ref_backfill"
                ref_backfill_config = site_config(ref_backfill)
                say(sc.dropped_export(site, prod / "sources" / "registers"))
                say(sc.source_down_then_cleared(site, rest_night - dt.timedelta(days=1),
                                                prod / "sources" / "maildir", "mairie_mail"))
                backfilled = [rest_night - dt.timedelta(days=d) for d in (4, 3, 2)]
                say(sc.backfill_through_airflow(site, backfilled, ref_backfill,
                                                ref_backfill_config, ref_env))
                nights = [*backfilled, nights[0] - dt.timedelta(days=1), *nights]
        except BaseException:
            for comp in components:
                if comp.proc is not None:
                    say(f"--- {comp.name}: last lines of {comp.log}\n{comp.tail(25)}")
            if reference is not None:
                reference.stop()
            raise
        finally:
            for comp in reversed(components):
                comp.stop()

    say(f"smoke took {time.monotonic() - t0:.0f} s")
    return len(nights)


def celery_routing(logs: Path) -> str:
    """Under Celery, every task of vigie_night (the DuckDB writers, queue ``duckdb``) ran on the
    warehouse worker, and the extract-only worker ran none of them."""
    text = {w: (logs / f"{w}.log").read_text(encoding="utf-8", errors="replace")
            for w in CELERY_WORKERS}
    ran = {w: t.count("vigie_night") for w, t in text.items()}
    if ran["airflow-worker-extract"] or not ran["airflow-worker-warehouse"]:
        raise SmokeFailed(f"vigie_night tasks seen in the workers' logs: {ran}; expected only "
                          f"on airflow-worker-warehouse (queue duckdb)")
    extracts = {w: t.count("vigie_extract_") for w, t in text.items()}
    return (f"Celery: vigie_night ran on airflow-worker-warehouse only; extract task lines per "
            f"worker {extracts}")


def compare_with_reference(prod: Path, ref: Path, reference: Component | None,
                           nights: list[dt.date], unbuilt: list[str], timeout: float) -> str:
    """Wait for the reference ``vigie run``, then compare its outputs with production's."""
    assert reference is not None and reference.proc is not None
    try:
        code = reference.proc.wait(timeout=max(60.0, timeout))
    except subprocess.TimeoutExpired:
        raise SmokeFailed("the reference vigie run did not finish") from None
    finally:
        reference.stop()
    if code != 0:
        say(f"--- reference: last lines of {reference.log}\n{reference.tail()}")
        raise SmokeFailed(f"vigie run --from {nights[0]} --to {nights[-1]} exited with {code}")
    problems, summary = compare_outputs(prod, ref)
    problems = unbuilt + problems
    for problem in problems:
        say(f"  DIFFERS: {problem}")
    if problems:
        raise SmokeFailed(f"{len(problems)} output(s) differ from vigie run")
    return summary


def _interrupted(signum: int, frame: object) -> None:
    """A SIGTERM (CI cancelling the job) unwinds through the finally blocks like Ctrl-C."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smoke_production", description=__doc__.split("\n")[0])
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds to wait for the nights' chains (default 600)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--celery", action="store_true",
                        help="with docker-compose.celery.yml: Redis and two Celery workers")
    parser.add_argument("--no-scenarios", action="store_true",
                        help="only the nights compared with vigie run")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    workdir = Path(tempfile.mkdtemp(prefix="vigie_smoke_"))
    ok = False
    try:
        n = smoke(workdir, args.timeout, scenarios=not args.no_scenarios, celery=args.celery)
        ok = True
        say(f"production smoke{' (Celery)' if args.celery else ''}: {n} nights ok")
        return 0
    except SmokeFailed as exc:
        say(f"production smoke: FAILED: {exc} (logs kept in {workdir / 'logs'})")
        return 1
    except KeyboardInterrupt:
        say(f"production smoke: FAILED: interrupted (logs kept in {workdir / 'logs'})")
        return 130
    finally:
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
