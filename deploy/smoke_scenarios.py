"""What the production smoke does after its nights matched ``vigie run``: the rest of the
production path, on the same running components (issue 12, items 3, 5 and 6).

1. **A source down for a night** (``source_down_then_cleared``): the Maildir disappears, night
   X is triggered through the REST API; the email extract fails (the smoke's site waits 0
   minutes), ``land_night`` still announces email for X, ``vigie_night`` builds X without it,
   ``all_sources_landed`` is red and the failure marker is in the landing area. The Maildir
   comes back, the failed task is cleared through the REST API: the batch lands, the marker
   goes, ``rebuild_night`` announces every family and the scheduler rebuilds X.
2. **A dropped export** (``dropped_export``): a new courrier register file appears; the asset
   watcher in the triggerer starts ``vigie_extract_dropped_exports``, which lands the newest
   ended night of the register and rebuilds it. The latency from the drop to the extract's
   success is printed.
3. **A backfill through Airflow itself** (``backfill_through_airflow``): ``airflow backfill
   create`` over three older nights for each extract DAG; ``vigie_night`` runs once per night;
   the marts then equal those of ``vigie run`` over the same three nights on a fresh copy of
   the sources.

Each step polls the REST API with a bounded timeout and raises ``SmokeFailed`` naming what it
waited for.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.landing_layout import FAILED_FILE, batch_dir
from deploy import smoke_production as sp

REGISTER_SOURCE_ID = "courrier"
REGISTER_HEADER = "N° d'enregistrement;Date de réception;Date de réponse;Service;Nature\n"


def register_source(sources_dir: Path) -> dict[str, Any]:
    """A courrier register source (CSV exports in ``sources/registers``) for the smoke's site."""
    return {
        "id": REGISTER_SOURCE_ID,
        "name": "Registre du courrier",
        "type": "request_register",
        "path": "../sources/registers/*.csv",
        "columns": {"request_id": "N° d'enregistrement", "received_at": "Date de réception",
                    "first_response_at": "Date de réponse", "service": "Service"},
        "services": {"Urbanisme": "URBANISME", "État civil": "ETAT_CIVIL"},
        "default_channel": "letter",
    }


def write_register(path: Path, rows: list[tuple[str, dt.date, dt.date | None, str]]) -> None:
    """A register export as a clerk's spreadsheet saves it (semicolons, French dates)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [REGISTER_HEADER]
    for ref, received, answered, service in rows:
        lines.append(f"{ref};{received:%d/%m/%Y} 09:30;"
                     f"{'' if answered is None else f'{answered:%d/%m/%Y} 16:00'};{service};Courrier\n")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(path)


@dataclass
class Site:
    """The running production site, as the smoke set it up."""

    api: sp.Api
    tz: str
    prod: Path
    logs: Path
    components: list[sp.Component]
    dags: list[dict[str, Any]]
    cli_env: dict[str, str]  # the scheduler's environment, for the airflow CLI

    def runs(self, dag_id: str, night: dt.date) -> list[dict[str, Any]]:
        return [r for r in self.api.dag_runs() if r["dag_id"] == dag_id
                and sp.run_night(r, self.tz) == night.isoformat()]

    def wait(self, what: str, check: Callable[[], Any], timeout: float = 600) -> Any:
        return sp.wait_until(what, check, timeout, self.components, every=sp.POLL_SECONDS)

    def night_built(self, night: dt.date, times: int = 1) -> bool:
        runs = self.runs("vigie_night", night)
        failed = [r for r in runs if r["state"] == "failed"]
        if failed:
            raise sp.SmokeFailed(f"vigie_night {failed[0]['dag_run_id']} failed for night {night}")
        return sum(r["state"] == "success" for r in runs) >= times and not any(
            r["state"] in sp.ACTIVE for r in runs)


def _task_state(site: Site, dag_id: str, run_id: str, task_id: str) -> str | None:
    ti = site.api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
    return ti.get("state")


def source_down_then_cleared(site: Site, night: dt.date, maildir: Path, source_id: str) -> str:
    """Item 3: the night is built without the source that is down, then rebuilt once it is back."""
    t0 = time.monotonic()
    away = maildir.with_name(maildir.name + ".down")
    maildir.rename(away)
    try:
        sp.trigger_night(site.api, site.dags, night, site.tz)
        site.wait(f"vigie_night of night {night} built without the email source",
                  lambda: site.night_built(night))
    finally:
        away.rename(maildir)
    email_run = f"manual__smoke_{night.isoformat()}"
    states = {t: _task_state(site, "vigie_extract_email", email_run, t)
              for t in (f"extract_{source_id}", "land_night", "all_sources_landed")}
    if states != {f"extract_{source_id}": "failed", "land_night": "success",
                  "all_sources_landed": "failed"}:
        raise sp.SmokeFailed(f"night {night} with the Maildir gone: email tasks {states}")
    marker = batch_dir(site.prod / "var" / "landing", source_id, night) / FAILED_FILE
    if not marker.is_file():
        raise sp.SmokeFailed(f"no failure marker {marker} for the night the Maildir was gone")
    sp.say(f"  night {night}: built without {source_id} (extract failed, marker written), "
           f"t+{time.monotonic() - t0:.0f} s; clearing the failed task through the REST API")

    site.api.call("POST", "/api/v2/dags/vigie_extract_email/clearTaskInstances", {
        "dag_run_id": email_run, "task_ids": [f"extract_{source_id}"], "include_downstream": True,
        "only_failed": False, "dry_run": False, "reset_dag_runs": True,
    })
    site.wait(f"night {night} rebuilt after the email extract was cleared",
              lambda: site.night_built(night, times=2), timeout=900)
    if marker.exists():
        raise sp.SmokeFailed(f"the failure marker {marker} is still there after the clear")
    if not (marker.parent / "_batch.json").is_file():
        raise sp.SmokeFailed(f"night {night} of {source_id} did not land after the clear")
    return (f"night {night}: built without the Maildir, then rebuilt once it was back "
            f"({time.monotonic() - t0:.0f} s)")


def dropped_export(site: Site, register_dir: Path) -> str:
    """Item 6: a register dropped during the day lands and rebuilds the newest ended night
    (yesterday, local: ``vigie.airflow_dags.latest_night``)."""
    night = dt.datetime.now(zoneinfo.ZoneInfo(site.tz)).date() - dt.timedelta(days=1)
    was_built = any(r["state"] == "success" for r in site.runs("vigie_night", night))
    def successes() -> int:
        return sum(r["state"] == "success" for r in site.api.dag_runs()
                   if r["dag_id"] == "vigie_extract_dropped_exports")

    before = successes()
    nights_before = sum(r["state"] == "success" for r in site.runs("vigie_night", night))
    write_register(register_dir / f"registre-{night:%Y-%m-%d}.csv",
                   [(f"C-{night:%m%d}-1", night, None, "Urbanisme"),
                    (f"C-{night:%m%d}-2", night, night, "État civil")])
    dropped = time.monotonic()

    site.wait("the dropped register's extract (asset watcher -> vigie_extract_dropped_exports)",
              lambda: successes() > before, timeout=300)
    latency = time.monotonic() - dropped
    if was_built:  # between 00:00 and 02:00 local, yesterday is not built yet: nothing to rebuild
        site.wait(f"night {night} rebuilt with the dropped register",
                  lambda: site.night_built(night, times=nights_before + 1), timeout=600)
    batch = batch_dir(site.prod / "var" / "landing", REGISTER_SOURCE_ID, night)
    import pyarrow.parquet as pq

    ids = sorted(pq.read_table(batch / "register_requests.parquet").column("request_id").to_pylist())
    if ids != ["C-0001", f"C-{night:%m%d}-1", f"C-{night:%m%d}-2"]:  # the first export's row too
        raise sp.SmokeFailed(f"the dropped register landed {ids} for night {night}")
    return (f"register dropped: extract done {latency:.0f} s after the drop, night {night} "
            f"rebuilt ({time.monotonic() - dropped:.0f} s)")


def backfill_through_airflow(site: Site, nights: list[dt.date], ref: Path, ref_config: Path,
                             ref_env: dict[str, str]) -> str:
    """Item 5: `airflow backfill create` for each extract DAG gives the marts of vigie run."""
    t0 = time.monotonic()
    tz = zoneinfo.ZoneInfo(site.tz)

    def run_time(night: dt.date) -> str:
        # A backfill of a partitioned DAG takes its dates as partition dates: night D is the
        # run at D 02:00 local (a scheduled run of night D starts at D+1 02:00).
        return dt.datetime.combine(night, dt.time(2), tzinfo=tz).isoformat()

    for dag in site.dags:
        dag_id = dag["dag_id"]
        if not dag_id.startswith(sp.EXTRACT_PREFIX) or dag_id == "vigie_extract_dropped_exports":
            continue
        argv = [str(sp.BIN / "airflow"), "backfill", "create", "--dag-id", dag_id,
                "--from-date", run_time(nights[0]), "--to-date", run_time(nights[-1]),
                "--max-active-runs", "1"]
        sp.run_checked(argv, site.cli_env, site.prod, site.logs / f"backfill-{dag_id}.log",
                       f"airflow backfill create --dag-id {dag_id}")
    site.wait(f"vigie_night of the backfilled nights {nights[0]}..{nights[-1]}",
              lambda: all(site.night_built(n) for n in nights), timeout=1200)
    backfilled = [r for r in site.api.dag_runs() if r["dag_id"].startswith(sp.EXTRACT_PREFIX)
                  and r["run_type"] == "backfill"]
    if len(backfilled) != 3 * len(nights):
        raise sp.SmokeFailed(f"{len(backfilled)} backfill runs of the extract DAGs, expected "
                             f"{3 * len(nights)}: {[sp.run_night(r, site.tz) for r in backfilled]}")
    sp.say(f"  backfill of {len(nights)} nights through Airflow: {time.monotonic() - t0:.0f} s; "
           f"vigie run over the same nights for reference")

    # The warehouse holds the marts of the night built last (runs of one DAG may start in any
    # order); vigie run ends with the same night.
    runs = [r for n in nights for r in site.runs("vigie_night", n) if r["state"] == "success"]
    last = dt.date.fromisoformat(sp.run_night(max(runs, key=lambda r: r["end_date"]), site.tz))
    ranges = [(nights[0], nights[-1])] + ([(last, last)] if last != nights[-1] else [])
    ref_sources = ref / "sources"
    shutil.rmtree(ref / "var", ignore_errors=True)
    shutil.rmtree(ref_sources, ignore_errors=True)
    shutil.copytree(site.prod / "sources", ref_sources)
    for first, end in ranges:
        proc = subprocess.run([str(sp.BIN / "vigie"), "run", "--config", str(ref_config), "--from",
                               first.isoformat(), "--to", end.isoformat()],
                              cwd=ref, env=ref_env, capture_output=True, text=True, timeout=1800)
        with (site.logs / "reference-backfill.log").open("a", encoding="utf-8") as log:
            log.write(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise sp.SmokeFailed(f"vigie run --from {first} --to {end} exited {proc.returncode}")
    got = sp.duckdb_tables(site.prod / "var" / "warehouse" / "vigie.duckdb", ("marts",))
    want = sp.duckdb_tables(ref / "var" / "warehouse" / "vigie.duckdb", ("marts",))
    problems = sp.compare_tables("marts after the backfill", got, want)
    for p in problems:
        sp.say(f"  DIFFERS: {p}")
    if problems:
        raise sp.SmokeFailed(f"{len(problems)} mart(s) differ between the Airflow backfill and "
                             f"vigie run over {nights[0]}..{nights[-1]}")
    return (f"backfill {nights[0]}..{nights[-1]} through Airflow: same marts as vigie run "
            f"({len(want)} tables), {time.monotonic() - t0:.0f} s")
