"""The GLPI connector against the real MariaDB and PostgreSQL servers of this machine.

Each server gets a throwaway database holding the GLPI tables Vigie reads, created from
``glpi_schema.glpi_metadata`` (GLPI's own names and types) and filled with the rows of
tests/fixtures/glpi/build_glpi.py; the connector reaches it through a connection id
(``AIRFLOW_CONN_<ID>``), exactly as in production. The database is dropped afterwards.

The landed tables must be *identical* to those read from the SQLite copy of the same rows:
the window (``date_mod``, opening date, child rows, with the overlap day), the deleted
tombstone and the naive-time conversion do not depend on the dialect.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from connectors.pseudonymise import Pseudonymiser
from connectors.ticketing.glpi import GlpiSchemaError, make_engine, read_interval
from vigie.config import VigieConfig, parse_config
from vigie.intervals import night_for_day

_spec = importlib.util.spec_from_file_location(
    "build_glpi", Path(__file__).resolve().parents[2] / "fixtures" / "glpi" / "build_glpi.py"
)
assert _spec and _spec.loader
build_glpi = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_glpi)
_conftest_spec = importlib.util.spec_from_file_location(
    "vigie_tests_conftest", Path(__file__).resolve().parents[2] / "conftest.py"
)
assert _conftest_spec and _conftest_spec.loader
_conftest = importlib.util.module_from_spec(_conftest_spec)
_conftest_spec.loader.exec_module(_conftest)
require_service = _conftest.require_service

NIGHT = night_for_day(dt.date(2026, 11, 16), "Europe/Paris")
KEY = b"h2-glpi-test-key-0123456789abcdef"
DB_NAME = f"vigie_glpi_test_{os.getpid()}"
SERVERS = {
    # name: (host, port, admin URL, connection URI given to Vigie)
    "mariadb": (
        "127.0.0.1", 3306, "mysql+pymysql://root@127.0.0.1:3306/mysql",
        f"mysql://root@127.0.0.1:3306/{DB_NAME}",
    ),
    "postgresql": (
        "127.0.0.1", 5432, "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
        f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    ),
}


def config(connection_id: str = "glpi_server", **source: Any) -> VigieConfig:
    return parse_config(
        {
            "collectivite": {
                "name": "Commune de test",
                "timezone": "Europe/Paris",
                "data_team": {"name": "Données", "email": "donnees@val-de-vigie.fr"},
            },
            "services": [
                {"code": "TECHNIQUE", "name": "Technique", "opening_hours": [{"monday": ["08:30-12:00"]}]}
            ],
            "sources": [
                {"id": "glpi_test", "type": "glpi_sql", "timezone": "Europe/Paris",
                 "connection_id": connection_id, **source}
            ],
        }
    )


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, Engine]]:
    """(connection URI, engine on the throwaway database) for one server; dropped afterwards."""
    name = request.param
    host, port, admin_url, uri = SERVERS[name]
    require_service(name, host, port)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME}"))
        conn.execute(text(f"CREATE DATABASE {DB_NAME}"))
    db_engine = create_engine(admin_url.rsplit("/", 1)[0] + f"/{DB_NAME}")
    try:
        build_glpi.fill_glpi(db_engine)
        yield uri, db_engine
    finally:
        db_engine.dispose()
        with admin.connect() as conn:
            if name == "postgresql":  # close any session a failed test left open
                conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{DB_NAME}' AND pid <> pg_backend_pid()"
                ))
            conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME}"))
        admin.dispose()


@pytest.fixture()
def conn_env(server: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> Engine:
    uri, engine = server
    monkeypatch.setenv("AIRFLOW_CONN_GLPI_SERVER", uri)
    return engine


def sqlite_reference(tmp_path: Path) -> Any:
    db = build_glpi.build_glpi_sqlite(tmp_path / "glpi.sqlite")
    cfg = config().model_copy(deep=True)
    src = cfg.sources[0].model_copy(update={"path": str(db), "connection_id": None})
    return read_interval(cfg, src, NIGHT, Pseudonymiser(KEY))


def test_server_night_equals_the_sqlite_night(conn_env: Engine, tmp_path: Path) -> None:
    cfg = config()
    landed = read_interval(cfg, cfg.sources[0], NIGHT, Pseudonymiser(KEY))
    reference = sqlite_reference(tmp_path)
    assert {n: t.num_rows for n, t in landed.tables.items()} == {
        "glpi_tickets": 8, "glpi_groups_tickets": 6, "glpi_tickets_users": 10,
        "glpi_itilfollowups": 5, "glpi_tickettasks": 2, "glpi_itilsolutions": 3,
        "glpi_ticketsatisfactions": 2, "glpi_logs": 7,
    }
    for name, table in reference.tables.items():
        assert landed.tables[name].equals(table), name
    # The SQLite copy holds junk text ('pas encore') a typed server column cannot hold.
    assert landed.meta["invalid_timestamps"] == {}
    assert landed.meta["window_glpi_local"] == ["2026-11-15 00:00:00", "2026-11-17 00:00:00"]
    assert landed.meta["tickets_deleted"] == 1


def test_the_connection_is_read_only(conn_env: Engine) -> None:
    cfg = config()
    before = _fingerprint(conn_env)
    read_interval(cfg, cfg.sources[0], NIGHT, Pseudonymiser(KEY))
    engine = make_engine(cfg, cfg.sources[0])
    try:
        with pytest.raises(Exception, match=r"(?i)read.only"), engine.begin() as conn:
            conn.execute(text("UPDATE glpi_tickets SET status = 6 WHERE id = 101"))
    finally:
        engine.dispose()
    assert _fingerprint(conn_env) == before


def _fingerprint(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(text(
                "SELECT id, status, date_mod, solvedate FROM glpi_tickets ORDER BY id"
            ))
        ]


def test_entities_outside_the_collectivite_are_not_read(conn_env: Engine) -> None:
    with conn_env.begin() as conn:
        conn.execute(text("UPDATE glpi_tickets SET entities_id = 3 WHERE id IN (101, 104)"))
    try:
        cfg = config(entities=[0])
        landed = read_interval(cfg, cfg.sources[0], NIGHT, Pseudonymiser(KEY))
        ids = sorted(landed.tables["glpi_tickets"].column("id").to_pylist())
        assert ids == [102, 103, 105, 106, 108, 109]
        assert 101 not in landed.tables["glpi_itilfollowups"].column("items_id").to_pylist()
        cfg = config(entities=[0, 3])
        landed = read_interval(cfg, cfg.sources[0], NIGHT, Pseudonymiser(KEY))
        assert landed.tables["glpi_tickets"].num_rows == 8
    finally:
        with conn_env.begin() as conn:
            conn.execute(text("UPDATE glpi_tickets SET entities_id = 0 WHERE id IN (101, 104)"))


def test_missing_column_then_missing_table_are_named(conn_env: Engine) -> None:
    # Destructive: runs last for each server (the database is dropped afterwards).
    cfg = config()
    with conn_env.begin() as conn:
        conn.execute(text("ALTER TABLE glpi_itilfollowups DROP COLUMN is_private"))
    with pytest.raises(GlpiSchemaError, match=r"glpi_itilfollowups: column\(s\) \['is_private'\] missing"):
        read_interval(cfg, cfg.sources[0], NIGHT, Pseudonymiser(KEY))
    with conn_env.begin() as conn:
        conn.execute(text("DROP TABLE glpi_ticketsatisfactions"))
    with pytest.raises(GlpiSchemaError, match=r"\['glpi_ticketsatisfactions'\] not found"):
        read_interval(cfg, cfg.sources[0], NIGHT, Pseudonymiser(KEY))
