"""The BI contract in PostgreSQL (issue 14), against the real server on loopback.

Two demo nights are built once for the module with the real pipeline (``vigie demo-data`` then
``vigie run``): the warehouse after night 1 is kept aside, night 2 runs on. Each test publishes
to a throwaway database of its own and drops it.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import require_service
from vigie.bi_docs import contract_docs
from vigie.config import BiPostgres, VigieConfig, load_config
from vigie.publish_postgres import PostgresPublishFailed, publish_postgres

pytestmark = [pytest.mark.service, pytest.mark.slow]

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEMO_FROM, NIGHT_1, NIGHT_2 = "2026-11-02", dt.date(2026, 11, 12), dt.date(2026, 11, 13)
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
CONN_ID = "vigie_bi_test"
DEMO_SERVICES = [
    ("ACCUEIL", "Accueil général"),
    ("CCAS", "Centre communal d'action sociale"),
    ("ENFANCE", "Enfance et scolaire"),
    ("ETAT_CIVIL", "État civil"),
    ("TECHNIQUE", "Services techniques"),
    ("URBANISME", "Urbanisme"),
]


def _vigie(*args: str, cwd: Path) -> None:
    env = dict(os.environ, AIRFLOW_HOME=str(cwd / "airflow_home"),
               VIGIE_PSEUDONYMISATION_KEY="bi-test-key-0123456789abcdef")
    env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
    env.pop("VIGIE_CONFIG", None)
    proc = subprocess.run([sys.executable, "-m", "vigie.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, f"vigie {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, VigieConfig]:
    """{'night_1': cfg whose warehouse holds night 1, 'night_2': the same for night 2}."""
    site = tmp_path_factory.mktemp("bi_site")
    data = yaml.safe_load((PROJECT_DIR / "config" / "vigie.yml").read_text(encoding="utf-8"))
    for source in data["sources"]:
        source["path"] = source["path"].replace("../var/", "var/")
    data["outputs"] = {k: (v.replace("../var/", "var/") if isinstance(v, str) else v)
                       for k, v in data["outputs"].items()}
    (site / "site.yml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _vigie("demo-data", "--config", "site.yml", "--from", DEMO_FROM, "--to", NIGHT_2.isoformat(), cwd=site)
    _vigie("run", "--config", "site.yml", "--from", NIGHT_1.isoformat(), "--to", NIGHT_1.isoformat(), cwd=site)
    cfg = load_config(site / "site.yml")
    night_1_dir = site / "night_1"
    night_1_dir.mkdir()
    shutil.copy(cfg.path(cfg.outputs.warehouse), night_1_dir / "vigie.duckdb")
    _vigie("run", "--config", "site.yml", "--from", NIGHT_2.isoformat(), "--to", NIGHT_2.isoformat(), cwd=site)
    target = BiPostgres(connection_id=CONN_ID)

    def with_outputs(**update: object) -> VigieConfig:
        return cfg.model_copy(update={"outputs": cfg.outputs.model_copy(update={"bi_postgres": target, **update})})

    return {"night_1": with_outputs(warehouse=str(night_1_dir / "vigie.duckdb")), "night_2": with_outputs()}


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch):
    """A throwaway PostgreSQL database, reachable as the Airflow connection CONN_ID."""
    require_service("PostgreSQL", PG["host"], PG["port"])
    import psycopg2

    name = f"vigie_bi_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    admin.cursor().execute(f"create database {name}")
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", f"postgresql://postgres@{PG['host']}:{PG['port']}/{name}")
    try:
        yield name
    finally:
        admin.cursor().execute(f"drop database if exists {name} with (force)")
        admin.close()


def _connect(dbname: str, user: str = "postgres"):  # psycopg2 connection
    import psycopg2

    con = psycopg2.connect(dbname=dbname, host=PG["host"], port=PG["port"], user=user)
    con.autocommit = True
    return con


def _duck_counts(cfg: VigieConfig, tables: list[str]) -> tuple[int, ...]:
    con = duckdb.connect(str(cfg.path(cfg.outputs.warehouse)), read_only=True)
    try:
        return tuple(con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in tables)
    finally:
        con.close()


READER_TABLES = ["requests", "commitment_evaluations", "service_indicators", "compliance_rates", "services", "dates"]
READER_QUERY = (
    "select (select night from vigie.snapshot_info), "
    + ", ".join(f"(select count(*) from vigie.{t})" for t in READER_TABLES)
)


def test_two_nights_with_a_concurrent_reader(nights, database) -> None:
    """A reader polling during the publications sees night 1 whole, then night 2 whole, never
    a missing table, an empty one or a mix; comments and dimension rows are there."""
    expected = {
        NIGHT_1: _duck_counts(nights["night_1"], READER_TABLES),
        NIGHT_2: _duck_counts(nights["night_2"], READER_TABLES),
    }
    assert expected[NIGHT_1] != expected[NIGHT_2]  # the nights differ, so a mix would show
    assert publish_postgres(nights["night_1"], NIGHT_1) == f"postgresql://127.0.0.1:5432/{database} schema vigie"

    seen: list[tuple] = []
    errors: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        con = _connect(database)
        cur = con.cursor()
        while not stop.is_set():
            try:
                cur.execute(READER_QUERY)
                seen.append(cur.fetchone())
            except Exception as exc:  # every failure is a finding
                errors.append(f"{type(exc).__name__}: {exc}")
        con.close()

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        while len(seen) < 20 and not errors:
            stop.wait(0.01)
        publish_postgres(nights["night_2"], NIGHT_2)
        publish_postgres(nights["night_2"], NIGHT_2)  # a rerun, still under the reader
        mark = len(seen)
        while len(seen) < mark + 20 and not errors:
            stop.wait(0.01)
    finally:
        stop.set()
        reader.join(timeout=60)
    assert errors == []
    results = [(row[0], tuple(row[1:])) for row in seen]
    assert {r for r in results} == {(NIGHT_1, expected[NIGHT_1]), (NIGHT_2, expected[NIGHT_2])}
    first_new = next(i for i, r in enumerate(results) if r[0] == NIGHT_2)
    assert all(r[0] == NIGHT_2 for r in results[first_new:])  # never back to the old night

    con = _connect(database)
    cur = con.cursor()
    docs = contract_docs()
    cur.execute("select obj_description('vigie.compliance_rates'::regclass, 'pg_class')")
    assert cur.fetchone()[0] == docs[("marts", "compliance_rates")].description
    cur.execute(
        "select col_description(attrelid, attnum) from pg_attribute "
        "where attrelid = 'vigie.compliance_rates'::regclass and attname = 'period_last_day'"
    )
    assert cur.fetchone()[0] == "Last local date of the period (inclusive): period_end - 1 day."
    cur.execute(
        "select col_description(attrelid, attnum) from pg_attribute "
        "where attrelid = 'vigie.history_service_indicators'::regclass and attname = 'recorded_on'"
    )
    assert cur.fetchone()[0] == docs[("history", "service_indicators")].columns["recorded_on"]
    # every column of every table has its comment
    cur.execute(
        """
        select c.relname, a.attname from pg_attribute a join pg_class c on c.oid = a.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'vigie' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
          and col_description(c.oid, a.attnum) is null
        """
    )
    assert cur.fetchall() == []
    cur.execute("select service_code, service_name, collectivite_name, timezone from vigie.services order by 1")
    assert cur.fetchall() == [(c, n, "Communauté de communes du Val de Vigie", "Europe/Paris") for c, n in DEMO_SERVICES]
    cur.execute("select count(*), count(*) filter (where is_in_force) from vigie.commitments")
    assert cur.fetchone() == (8, 8)
    cur.execute(
        "select label, target_label, threshold, min_volume, service_codes from vigie.commitments "
        "where commitment_id = 'marianne_email_response'"
    )
    assert cur.fetchone() == ("Courriels : réponse sous 5 jours ouvrés", "5 jours ouvrés", 0.9, 3,
                              "ACCUEIL, CCAS, ENFANCE, ETAT_CIVIL, TECHNIQUE, URBANISME")
    cur.execute(
        "select day_name_fr, month_name_fr, iso_week_label, public_holiday_name, is_public_holiday "
        "from vigie.dates where calendar_date = '2026-11-11'"
    )
    assert cur.fetchone() == ("mercredi", "novembre", "2026-W46", "Armistice", True)
    cur.execute(
        "select is_business_day, is_working_day, is_closed, closure_reason from vigie.service_days "
        "where service_code = 'ETAT_CIVIL' and calendar_date = '2026-11-10'"
    )
    assert cur.fetchone() == (False, False, True, "Pont du 11 novembre")
    cur.execute("select nspname from pg_namespace where nspname like 'vigie%' order by 1")
    assert cur.fetchall() == [("vigie",)]  # no work or old schema left behind
    con.close()


def _rows(cur, sql: str) -> Counter:
    cur.execute(sql)
    return Counter(tuple(r) for r in cur.fetchall())


def test_types_and_values_are_those_of_the_warehouse(nights, database) -> None:
    """Every published table holds exactly the warehouse's rows, in faithful types."""
    cfg = nights["night_2"]
    publish_postgres(cfg, NIGHT_2)
    con = _connect(database)
    cur = con.cursor()
    cur.execute(
        "select table_name, column_name, data_type from information_schema.columns where table_schema = 'vigie' "
        "and (table_name, column_name) in (('requests_local', 'received_at'), ('requests_local', 'received_at_local'), "
        "('compliance_rates', 'period_start'), ('compliance_rates', 'compliance_rate'), ('compliance_rates', "
        "'is_breached'), ('compliance_rates', 'met_count'), ('compliance_rates', 'min_volume'), "
        "('snapshot_info', 'tables')) order by 1, 2"
    )
    assert cur.fetchall() == [
        ("compliance_rates", "compliance_rate", "double precision"),
        ("compliance_rates", "is_breached", "boolean"),
        ("compliance_rates", "met_count", "bigint"),
        ("compliance_rates", "min_volume", "integer"),
        ("compliance_rates", "period_start", "date"),
        ("requests_local", "received_at", "timestamp with time zone"),
        ("requests_local", "received_at_local", "timestamp without time zone"),
        ("snapshot_info", "tables", "ARRAY"),
    ]
    duck = duckdb.connect(str(cfg.path(cfg.outputs.warehouse)), read_only=True)
    try:
        duck.execute("set TimeZone = 'UTC'")
        tables = [r[0] for r in duck.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
        assert {"services", "commitments", "dates", "service_days", "compliance_rates", "requests_local"} <= set(tables)
        compared = 0
        for table in tables:
            assert _rows(cur, f"select * from vigie.{table}") == Counter(duck.execute(f"select * from marts.{table}").fetchall()), table
            compared += 1
        # every history table (vigie/history.py): indicators, exclusion reasons, commitment versions
        for table in ("service_indicators", "exclusion_reasons", "commitment_versions"):
            history = Counter(duck.execute(f"select * from history.{table}").fetchall())
            assert _rows(cur, f"select * from vigie.history_{table}") == history, table
            assert sum(history.values()) > 0, table
    finally:
        duck.close()
    cur.execute("select night, tables[1], array_length(tables, 1) from vigie.snapshot_info")
    assert cur.fetchone() == (NIGHT_2, "commitment_evaluations", compared + 3)
    con.close()


def test_grants_carried_over_and_foreign_views_refused(nights, database) -> None:
    """The read-only role of docs/bi.md keeps reading after each swap; a view of another schema
    on the published tables stops the publication with its name, and night 1 stays."""
    publish_postgres(nights["night_1"], NIGHT_1)
    role = f"vigie_bi_{uuid.uuid4().hex[:8]}"
    setup = _doc_blocks("setup")["read_only_role"]
    setup = setup.replace("vigie_bi", role).replace("database bi ", f"database {database} ")
    con = _connect(database)
    cur = con.cursor()
    try:
        cur.execute(setup)
        publish_postgres(nights["night_2"], NIGHT_2)
        reader = _connect(database, user=role)
        rcur = reader.cursor()
        rcur.execute("select night from snapshot_info")  # the role's search_path is the schema
        assert rcur.fetchone() == (NIGHT_2,)
        with pytest.raises(Exception, match="read-only transaction|permission denied"):
            rcur.execute("delete from services")
        reader.close()

        cur.execute("create schema custom")
        cur.execute("create view custom.breaches as select * from vigie.compliance_rates where is_breached")
        with pytest.raises(PostgresPublishFailed, match=r"custom\.breaches"):
            publish_postgres(nights["night_1"], NIGHT_1)
        cur.execute("select night from vigie.snapshot_info")
        assert cur.fetchone() == (NIGHT_2,)
        cur.execute("select count(*) from pg_namespace where nspname = 'vigie_work'")
        assert cur.fetchone() == (0,)
    finally:
        cur.execute(f"drop owned by {role}")
        cur.execute(f"drop role if exists {role}")
        con.close()


# -- docs/bi.md -------------------------------------------------------------------------------

def _doc_blocks(kind: str) -> dict[str, str]:
    """The ```sql blocks of docs/bi.md that start with '-- <kind>: <name>'."""
    text = (PROJECT_DIR / "docs" / "bi.md").read_text(encoding="utf-8")
    blocks = {}
    for body in re.findall(r"```sql\n(.*?)```", text, flags=re.S):
        m = re.match(rf"-- {kind}: (\w+)", body)
        if m:
            blocks[m.group(1)] = body.strip().rstrip(";")
    return blocks


def _normal(value: object) -> object:
    """Compare numbers as numbers: PostgreSQL sums bigints into numeric, DuckDB into int128."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _same(a: list[tuple], b: list[tuple]) -> bool:
    if len(a) != len(b):
        return False
    key = lambda row: tuple((v is None, str(v)) for v in row)  # noqa: E731
    for ra, rb in zip(sorted(a, key=key), sorted(b, key=key), strict=True):
        for va, vb in zip(ra, rb, strict=True):
            va, vb = _normal(va), _normal(vb)
            if isinstance(va, float) and isinstance(vb, float | int):
                if not math.isclose(va, vb, rel_tol=1e-12, abs_tol=1e-12):
                    return False
            elif va != vb:
                return False
    return True


def test_docs_questions_give_the_same_results_in_postgresql_and_the_snapshot(nights, database) -> None:
    """Each ready-made question of docs/bi.md, run as written against PostgreSQL (search_path
    = the schema) and against the DuckDB snapshot (search_path = marts, main)."""
    cfg = nights["night_2"]
    publish_postgres(cfg, NIGHT_2)
    questions = _doc_blocks("question")
    assert set(questions) == {"monthly_compliance", "pickup_rate_trend", "overdue_letters",
                              "satisfaction_per_channel", "month_over_month"}
    con = _connect(database)
    cur = con.cursor()
    cur.execute("set search_path to vigie")
    duck = duckdb.connect(str(cfg.path(cfg.outputs.bi_snapshot)), read_only=True)
    try:
        duck.execute("set search_path = 'marts,main'")
        sizes = {}
        for name, sql in questions.items():
            cur.execute(sql)
            in_postgres = cur.fetchall()
            in_duckdb = duck.execute(sql).fetchall()
            assert _same(in_postgres, in_duckdb), name
            sizes[name] = len(in_postgres)
    finally:
        duck.close()
        con.close()
    assert sizes == {"monthly_compliance": 36, "pickup_rate_trend": 4, "overdue_letters": 5,
                     "satisfaction_per_channel": 5, "month_over_month": 36}


def test_dbt_docs_site_is_built_offline_with_the_exposures(nights) -> None:
    """One self-contained HTML page beside the snapshot: definitions, lineage, exposures."""
    from vigie.bi_docs_site import build_dbt_docs

    cfg = nights["night_2"]
    index = build_dbt_docs(cfg, NIGHT_2)
    assert index == cfg.path(cfg.outputs.bi_snapshot).parent / "dbt_docs" / "index.html"
    html = index.read_text(encoding="utf-8")
    for name in ("exposure.vigie.monthly_compliance", "exposure.vigie.overdue_letters",
                 "model.vigie.compliance_rates", "Last local date of the period (inclusive)"):
        assert name in html, name
    assert re.findall(r"<script[^>]+src=\"https?://", html) == []  # nothing fetched from the internet


def test_snapshot_and_postgres_carry_the_same_comments(nights, database) -> None:
    """The DuckDB snapshot of the night (written by the DAG's publish_snapshot) has the
    comments the PostgreSQL schema has, table by table and column by column."""
    cfg = nights["night_2"]
    publish_postgres(cfg, NIGHT_2)
    duck = duckdb.connect(str(cfg.path(cfg.outputs.bi_snapshot)), read_only=True)
    try:
        in_duckdb = {
            (("history_" if s == "history" else "") + t, None): c
            for s, t, c in duck.execute(
                "select schema_name, table_name, comment from duckdb_tables() where not internal").fetchall()
        }
        in_duckdb.update({
            (("history_" if s == "history" else "") + t, col): c
            for s, t, col, c in duck.execute(
                "select schema_name, table_name, column_name, comment from duckdb_columns() "
                "where not internal").fetchall()
        })
    finally:
        duck.close()
    con = _connect(database)
    cur = con.cursor()
    cur.execute(
        """
        select c.relname, null, obj_description(c.oid, 'pg_class') from pg_class c
        join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'vigie' and c.relkind = 'r'
        union all
        select c.relname, a.attname, col_description(c.oid, a.attnum) from pg_attribute a
        join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'vigie' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
        """
    )
    in_postgres = {(t, col): c for t, col, c in cur.fetchall()}
    con.close()
    assert in_duckdb == in_postgres
    assert in_duckdb[("services", "collectivite_name")] == (
        "Name of the collectivité (collectivite.name), e.g. Commune de Vigie.")
    assert None not in in_duckdb.values()
