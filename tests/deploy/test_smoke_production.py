"""The production smoke's own rules (deploy/smoke_production.py), each with exact values.

The smoke itself runs the whole stack (`make smoke-production`, in CI after `make test`); these
tests pin how it picks its nights, reads a run's night, and compares outputs.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from email.message import EmailMessage
from pathlib import Path

import duckdb
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
if str(PROJECT_DIR) not in sys.path:  # deploy/ is not an installed package
    sys.path.insert(0, str(PROJECT_DIR))

from deploy.compose_env import common_environment, load_compose  # noqa: E402
from deploy.smoke_production import (  # noqa: E402
    compare_tables,
    digest_fingerprints,
    duckdb_tables,
    first_scheduled_night,
    generated_env_file,
    last_complete_night,
    nights_not_built,
    run_night,
    site_config,
)

PARIS = "Europe/Paris"


def test_last_complete_night_turns_at_two_in_the_morning_local() -> None:
    # 2026-12-07 05:14 in Paris (04:14 UTC): the run of 02:00 has passed, night 2026-12-06.
    assert last_complete_night(PARIS, dt.datetime(2026, 12, 7, 4, 14, tzinfo=dt.UTC)) == (
        dt.date(2026, 12, 6))
    # 01:30 in Paris (00:30 UTC): tonight's run has not started, the last is 2026-12-05.
    assert last_complete_night(PARIS, dt.datetime(2026, 12, 7, 0, 30, tzinfo=dt.UTC)) == (
        dt.date(2026, 12, 5))
    # Summer time: 02:00 CEST is 00:00 UTC.
    assert last_complete_night(PARIS, dt.datetime(2026, 7, 1, 0, 0, tzinfo=dt.UTC)) == (
        dt.date(2026, 6, 30))


def test_first_scheduled_night_from_the_next_run_time_of_the_extract_dags() -> None:
    dags = [
        {"dag_id": "vigie_extract_email", "next_dagrun_run_after": "2026-12-05T01:00:00Z"},
        {"dag_id": "vigie_extract_telephony", "next_dagrun_run_after": "2026-12-05T01:00:00+00:00"},
        {"dag_id": "vigie_night", "next_dagrun_run_after": None},
    ]
    assert first_scheduled_night(dags, PARIS) == dt.date(2026, 12, 4)


def test_the_night_of_a_run_conf_then_partition_then_interval() -> None:
    assert run_night({"conf": {"day": "2026-12-03"}, "partition_key": "2026-12-09"}, PARIS) == (
        "2026-12-03")
    assert run_night({"conf": {}, "partition_key": "2026-12-04"}, PARIS) == "2026-12-04"
    assert run_night({"conf": None, "run_type": "scheduled",
                      "data_interval_start": "2026-12-04T01:00:00Z"}, PARIS) == "2026-12-04"
    assert run_night({"conf": {}, "run_type": "asset_triggered",
                      "data_interval_start": None}, PARIS) == "?"


def test_a_night_skipped_downstream_is_named() -> None:
    runs = [
        {"dag_id": "vigie_extract_email", "conf": {"day": "2026-12-03"}, "state": "success"},
        {"dag_id": "vigie_night", "partition_key": "2026-12-04", "state": "success"},
        {"dag_id": "vigie_night", "partition_key": "2026-12-05", "state": "success"},
    ]
    assert nights_not_built(runs, PARIS, ["2026-12-03", "2026-12-04", "2026-12-05"]) == [
        "vigie_night never ran night(s) 2026-12-03 (ran 2026-12-04, 2026-12-05)"]
    # Runs that carry no night (asset-triggered, no partition) are left to the outputs.
    assert nights_not_built([{"dag_id": "vigie_transform", "state": "success"}], PARIS,
                            ["2026-12-03"]) == []


def _eml(path: Path, date: str, msg_id: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "vigie@x.fr", "head@x.fr", "Vigie"
    msg["Date"], msg["Message-ID"] = date, msg_id
    msg.set_content(body)
    msg.add_alternative(f"<p>{body}</p>", subtype="html")  # multipart: a random boundary
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(msg))


def test_digests_compare_without_date_message_id_and_boundaries(tmp_path: Path) -> None:
    _eml(tmp_path / "a" / "2026-12-04" / "k.eml", "Mon, 07 Dec 2026 04:00:00 +0000", "<1@x>", "3 missed")
    _eml(tmp_path / "b" / "2026-12-04" / "k.eml", "Mon, 07 Dec 2026 05:00:00 +0000", "<2@x>", "3 missed")
    _eml(tmp_path / "c" / "2026-12-04" / "k.eml", "Mon, 07 Dec 2026 04:00:00 +0000", "<1@x>", "4 missed")
    a, b, c = (digest_fingerprints(tmp_path / x) for x in "abc")
    boundaries = {(tmp_path / x / "2026-12-04" / "k.eml").read_bytes().split(b'boundary="')[1][:30]
                  for x in "ab"}
    assert len(boundaries) == 2  # the two files differ in their bytes
    assert list(a) == ["2026-12-04/k.eml"]
    assert a == b
    assert a != c


def test_tables_compare_to_twelve_digits_and_without_publication_time(tmp_path: Path) -> None:
    def build(path: Path, mean: float, published: str) -> None:
        con = duckdb.connect(str(path))
        con.execute("create schema marts")
        con.execute("create table marts.t (service varchar, mean double)")
        con.execute("insert into marts.t values ('CCAS', ?), ('ACCUEIL', 1.5)", [mean])
        con.execute("create table main.snapshot_info (night date, published_at timestamptz)")
        con.execute(f"insert into main.snapshot_info values ('2026-12-06', '{published}')")
        con.close()

    build(tmp_path / "a.duckdb", 2.170829475308642, "2026-12-07 04:00:00+00")
    build(tmp_path / "b.duckdb", 2.1708294753086417, "2026-12-07 05:00:00+00")
    build(tmp_path / "c.duckdb", 2.1708294753, "2026-12-07 05:00:00+00")
    a, b, c = (duckdb_tables(tmp_path / f"{x}.duckdb", None) for x in "abc")
    assert a["marts.t"] == [("ACCUEIL", 1.5), ("CCAS", 2.17082947531)]
    assert a["main.snapshot_info"] == [(dt.date(2026, 12, 6),)]
    assert compare_tables("snapshot", a, b) == []
    assert compare_tables("snapshot", a, c) == [
        "snapshot marts.t: 2 rows in production, 2 in vigie run; e.g. production only: "
        "[('CCAS', 2.17082947531)]"]


def test_the_generated_env_sets_every_variable_of_env_example(tmp_path: Path) -> None:
    values = generated_env_file(tmp_path / ".env")
    example = (PROJECT_DIR / ".env.example").read_text(encoding="utf-8")
    listed = {line.split("=", 1)[0] for line in example.splitlines()
              if line and not line.startswith("#")}
    assert set(values) == listed
    for secret in ("POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY"):
        assert len(values[secret]) == 43, secret  # token_urlsafe(32)
    assert json.loads(values["VIGIE_PSEUDONYMISATION_CONN"])["conn_type"] == "generic"
    # The compose file interpolates with it: nothing required is missing.
    env = common_environment(load_compose(), values)
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == values["AIRFLOW_JWT_SECRET"]


def test_the_site_config_reads_sources_and_writes_outputs_inside_the_site(tmp_path: Path) -> None:
    path = site_config(tmp_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert path == tmp_path / "config" / "vigie.yml"
    paths = {s["id"]: s["path"] for s in data["sources"] if "path" in s}
    assert paths["pbx_queue_log"] == "../sources/asterisk/queue_log*"
    assert paths["mairie_mail"] == "../sources/maildir"
    assert all(p.startswith("../sources/") for p in paths.values()), paths
    assert data["outputs"]["warehouse"] == "../var/warehouse/vigie.duckdb"
    assert "key_file" not in data["pseudonymisation"]  # the key comes from the connection


def test_stop_ends_the_whole_process_group_even_a_child_ignoring_signals(tmp_path: Path) -> None:
    import os
    import signal
    import time

    from deploy.smoke_production import Component

    # A parent that ignores SIGINT and SIGTERM, with a grandchild that does too.
    script = "trap '' INT TERM; (trap '' INT TERM; sleep 300) & echo $! > child.pid; wait"
    comp = Component("stubborn", ["bash", "-c", script], {"PATH": os.environ["PATH"]},
                     tmp_path / "stubborn.log")
    comp.start(tmp_path)
    deadline = time.monotonic() + 10
    while not (tmp_path / "child.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int((tmp_path / "child.pid").read_text())
    comp.stop(grace=(0.5, 0.5, 5.0))
    assert comp.proc is not None and comp.proc.returncode == -signal.SIGKILL
    try:
        os.kill(child, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "the grandchild outlived stop()"


def test_the_database_is_dumped_then_dropped_when_the_smoke_fails(tmp_path: Path) -> None:
    import os

    import psycopg2
    import pytest

    from deploy.smoke_production import PG, temporary_database
    from tests.conftest import require_service

    require_service("PostgreSQL", PG["host"], PG["port"])
    name = f"vigie_smoke_test_{os.getpid()}"
    with pytest.raises(RuntimeError, match="night not built"):
        with temporary_database(name, tmp_path / "metadata") as db:
            con = psycopg2.connect(dbname=db, **PG)
            con.autocommit = True
            con.cursor().execute("create table dag_run (dag_id text, state text); "
                                 "insert into dag_run values ('vigie_night', 'success')")
            con.close()
            raise RuntimeError("night not built")
    assert (tmp_path / "metadata" / "dag_run.csv").read_text(encoding="utf-8") == (
        "dag_id,state\nvigie_night,success\n")
    con = psycopg2.connect(dbname="postgres", **PG)
    try:
        with con.cursor() as cur:
            cur.execute("select count(*) from pg_database where datname = %s", (name,))
            assert cur.fetchone()[0] == 0
    finally:
        con.close()
