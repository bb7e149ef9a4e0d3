"""``vigie trigger --day D``: process night D now, through a running Airflow's REST API.

Why a command and not "Trigger DAG" in the UI: the extract DAGs are partitioned by night, and a
run created with only a logical date is ambiguous (Airflow 3 gives a manual run of
``logical_date = D 02:00`` the interval that ends there, the night before). This command
creates, in each extract DAG, a run with ``partition_key = D`` and ``conf = {"day": D}``; the
extracts land night D, announce it, and the scheduler then runs ``vigie_night`` for D once all
families have landed. The same request by hand (curl, the UI's JSON conf) is in
docs/production.md.

Authentication: ``POST /auth/token`` with the admin user of the deployment
(``AIRFLOW_ADMIN_USER`` / ``AIRFLOW_ADMIN_PASSWORD``, as in ``.env``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

DEFAULT_API_URL = "http://127.0.0.1:8080"
FINISHED = ("success", "failed")
# vigie.airflow_dags imports the Airflow SDK: kept out of `vigie --help`.
NIGHT_DAG_ID = "vigie_night"
EXTRACT_DAG_IDS = ("vigie_extract_telephony", "vigie_extract_email", "vigie_extract_ticketing")


class TriggerFailed(RuntimeError):
    """The API refused a request; the message says which and why."""


@dataclass
class AirflowApi:
    base_url: str
    token: str
    timeout: float = 30.0

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> AirflowApi:
        import httpx

        base = base_url.rstrip("/")
        try:
            resp = httpx.post(f"{base}/auth/token", json={"username": username, "password": password},
                              timeout=30.0)
        except httpx.HTTPError as exc:
            raise TriggerFailed(f"the Airflow API at {base} does not answer ({exc}); is the "
                                f"api-server running? (--api-url / AIRFLOW_API_URL)") from exc
        if resp.status_code >= 400:
            raise TriggerFailed(f"login as {username!r} refused by {base} ({resp.status_code}): "
                                f"check AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD")
        return cls(base, resp.json()["access_token"])

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        resp = httpx.request(method, f"{self.base_url}{path}", timeout=self.timeout,
                             headers={"Authorization": f"Bearer {self.token}"}, **kwargs)
        if resp.status_code >= 400:
            raise TriggerFailed(f"{method} {path}: {resp.status_code} {resp.text[:500]}")
        return resp.json() if resp.content else None

    def trigger_night(self, dag_id: str, day: dt.date) -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        body = {
            "dag_run_id": f"manual__night_{day.isoformat()}__{stamp}",
            "logical_date": None,
            "partition_key": day.isoformat(),
            "conf": {"day": day.isoformat()},
            "note": f"vigie trigger --day {day.isoformat()}",
        }
        return str(self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def runs_of_night(self, dag_id: str, day: dt.date) -> list[dict[str, Any]]:
        """Runs of ``dag_id`` whose partition key is the night (newest first)."""
        data = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns",
                            params={"order_by": "-run_after", "limit": 100})
        return [r for r in data.get("dag_runs", []) if r.get("partition_key") == day.isoformat()]


def trigger(api: AirflowApi, day: dt.date, *, wait: float = 0.0,
            echo: Any = print) -> dict[str, str]:
    """Create night ``day`` in every extract DAG; with ``wait`` seconds, wait for vigie_night."""
    created = {dag_id: api.trigger_night(dag_id, day) for dag_id in EXTRACT_DAG_IDS}
    for dag_id, run_id in created.items():
        echo(f"{dag_id}: run {run_id} created for night {day}")
    if wait <= 0:
        return {}
    deadline = time.monotonic() + wait
    started = dt.datetime.now(dt.UTC)
    while time.monotonic() < deadline:
        runs = [r for r in api.runs_of_night(NIGHT_DAG_ID, day)
                if dt.datetime.fromisoformat(r["run_after"]) >= started - dt.timedelta(seconds=5)]
        done = [r for r in runs if r.get("state") in FINISHED]
        if done:
            state = done[0]["state"]
            echo(f"{NIGHT_DAG_ID}: night {day} {state} (run {done[0]['dag_run_id']})")
            return {NIGHT_DAG_ID: state}
        time.sleep(5)
    raise TriggerFailed(f"{NIGHT_DAG_ID} did not finish night {day} within {wait:.0f} s")


def add_parser(sub: Any) -> None:
    t = sub.add_parser("trigger", help="process one night now through a running Airflow (REST API)")
    t.add_argument("--day", required=True, type=dt.date.fromisoformat, help="the night YYYY-MM-DD")
    t.add_argument("--api-url", default=os.environ.get("AIRFLOW_API_URL", DEFAULT_API_URL))
    t.add_argument("--user", default=os.environ.get("AIRFLOW_ADMIN_USER", "admin"))
    t.add_argument("--wait", type=float, default=0.0,
                   help="seconds to wait for vigie_night of that night to finish (0: do not wait)")
    t.set_defaults(func=cmd_trigger)


def cmd_trigger(args: argparse.Namespace) -> int:
    password = os.environ.get("AIRFLOW_ADMIN_PASSWORD")
    if not password:
        print("set AIRFLOW_ADMIN_PASSWORD (the admin password of the deployment, as in .env)",
              file=sys.stderr)
        return 2
    try:
        api = AirflowApi.login(args.api_url, args.user, password)
        result = trigger(api, args.day, wait=args.wait)
    except TriggerFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0 if result.get(NIGHT_DAG_ID, "success") == "success" else 1
