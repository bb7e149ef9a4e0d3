"""queue_log from SQL on this machine's REAL PostgreSQL and MariaDB (throwaway databases).

Night 2026-10-25 in Europe/Paris (25 hours: [2026-10-24 22:00Z, 2026-10-25 23:00Z)). The same
seven rows are written in three layouts: Asterisk's data1..data5 with a timestamp ``time``, the
legacy single ``data`` column with a ``char(26)`` ``time``, and both columns (FreePBX) with a
``char(26)`` ``time`` where one row was written by a legacy writer (``data`` only).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from connectors.extract import SourceUnavailable, extract_source
from tests.conftest import require_service
from tests.connectors.conftest import QUEUES, minimal_config

DAY = dt.date(2026, 10, 25)
# id, local time, callid, queue, agent, event, data fields
ROWS = [
    (1, "2026-10-24 23:59:59.500000", "A0.1", "accueil", "NONE", "ENTERQUEUE", ["", "0601020304", "1"]),
    (2, "2026-10-25 00:00:00.000000", "A.1", "accueil", "NONE", "ENTERQUEUE", ["", "06 11 22 33 44", "1", "Marie Curie"]),
    (3, "2026-10-25 02:30:00.250000", "A.1", "accueil", "SIP/1001", "CONNECT", ["30", "A.2", "2"]),
    (4, "2026-10-25 23:59:59.000000", "B.1", "accueil", "NONE", "ABANDON", ["1", "1", "3"]),
    (5, "2026-10-26 00:00:00.000000", "C.1", "accueil", "NONE", "ENTERQUEUE", ["", "0622334455", "1"]),
    (6, "2026-10-25 10:00:00.000000", "D.1", "accueil", "NONE", "", ["1"]),
]  # fmt: skip
BAD_TIME = (7, "2026-10-25 1O:00:00", "E.1", "accueil", "NONE", "ENTERQUEUE", ["", "", "1"])

BACKENDS = {
    "postgres": ("127.0.0.1", 5432, "postgresql+psycopg2://postgres@127.0.0.1:5432/{db}",
                 "timestamp(6)", "postgres://postgres@127.0.0.1:5432/{db}"),
    "mariadb": ("127.0.0.1", 3306, "mysql+pymysql://root@127.0.0.1:3306/{db}",
                "datetime(6)", "mysql://root@127.0.0.1:3306/{db}"),
}  # fmt: skip
LAYOUTS = ("ql_n", "ql_legacy", "ql_both")


def _admin_url(backend: str) -> str:
    return BACKENDS[backend][2].format(db="postgres" if backend == "postgres" else "mysql")


def _create_tables(engine: sa.Engine, ts_type: str) -> None:
    n_cols = ", ".join(f"data{i} varchar(255)" for i in range(1, 6))
    with engine.begin() as c:
        c.execute(sa.text(f"CREATE TABLE ql_n (id integer primary key, time {ts_type}, callid varchar(80), queuename varchar(80), agent varchar(80), event varchar(32), {n_cols})"))
        c.execute(sa.text("CREATE TABLE ql_legacy (id integer primary key, time char(26), callid varchar(80), queuename varchar(80), agent varchar(80), event varchar(32), data varchar(255))"))
        c.execute(sa.text(f"CREATE TABLE ql_both (id integer primary key, time char(26), callid varchar(80), queuename varchar(80), agent varchar(80), event varchar(32), data varchar(255), {n_cols})"))
        for rid, time, callid, queue, agent, event, data in ROWS:
            d = (data + [None] * 5)[:5]
            base = {"id": rid, "time": time, "callid": callid, "q": queue, "a": agent, "e": event}
            nd = {f"d{i + 1}": d[i] for i in range(5)}
            c.execute(sa.text("INSERT INTO ql_n VALUES (:id, :time, :callid, :q, :a, :e, :d1, :d2, :d3, :d4, :d5)"), base | nd)
            c.execute(sa.text("INSERT INTO ql_legacy VALUES (:id, :time, :callid, :q, :a, :e, :data)"), base | {"data": "|".join(data)})
            if rid == 4:  # written by a legacy writer: data only
                nd = {k: None for k in nd}
            c.execute(sa.text("INSERT INTO ql_both VALUES (:id, :time, :callid, :q, :a, :e, :data, :d1, :d2, :d3, :d4, :d5)"), base | {"data": "|".join(data)} | nd)
        rid, time, callid, queue, agent, event, data = BAD_TIME
        c.execute(sa.text("INSERT INTO ql_legacy VALUES (:id, :time, :callid, :q, :a, :e, :data)"), {"id": rid, "time": time, "callid": callid, "q": queue, "a": agent, "e": event, "data": "|".join(data)})


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def database(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A throwaway database with the three layouts, dropped afterwards: (backend, conn uri)."""
    backend = request.param
    host, port, url, ts_type, conn_uri = BACKENDS[backend]
    require_service(backend, host, port)
    db = f"vigie_h10_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(_admin_url(backend), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"CREATE DATABASE {db}"))
    engine = sa.create_engine(url.format(db=db))
    try:
        _create_tables(engine, ts_type)
        engine.dispose()
        yield backend, conn_uri.format(db=db)
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE {db}"))
        admin.dispose()


def _extract(tmp_path, monkeypatch, conn_uri: str, table: str, timezone: str | None = None):
    monkeypatch.setenv("AIRFLOW_CONN_PBX_DB", conn_uri)
    src = {
        "id": "pbx_ql_sql",
        "type": "asterisk_queue_log_sql",
        "connection_id": "pbx_db",
        "table": table,
        "queues": QUEUES,
    }
    if timezone:
        src["timezone"] = timezone
    batch = extract_source(minimal_config(tmp_path, [src]), "pbx_ql_sql", DAY)
    rows = pq.read_table(batch.path / "queue_log_events.parquet").to_pylist()
    rejects = pq.read_table(batch.path / "rejects.parquet").to_pylist()
    return rows, [(r["source_file"], r["source_position"], r["reason"]) for r in rejects]


@pytest.mark.parametrize("table", LAYOUTS)
def test_every_layout_lands_the_same_events_in_local_time(database, table, tmp_path, monkeypatch):
    rows, rejects = _extract(tmp_path, monkeypatch, database[1], table)
    assert [r["source_line"] for r in rows] == [2, 3, 4]
    assert [r["source_file"] for r in rows] == [table] * 3
    assert [r["event_at"] for r in rows] == [
        dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.UTC),  # 00:00 CEST
        dt.datetime(2026, 10, 25, 0, 30, 0, 250000, tzinfo=dt.UTC),  # 02:30 twice: first (CEST)
        dt.datetime(2026, 10, 25, 22, 59, 59, tzinfo=dt.UTC),  # 23:59:59 CET
    ]
    enter, connect, abandon = rows
    assert enter["caller_key"] is not None and enter["data2"] is None and enter["data4"] is None
    assert enter["data3"] == "1"
    assert (connect["data1"], connect["data2"], connect["data3"]) == ("30", "A.2", "2")
    assert (abandon["data1"], abandon["data2"], abandon["data3"]) == ("1", "1", "3")
    assert abandon["agent_key"] is None and connect["agent_key"] is not None
    expected = [(table, "id 6", "event is empty")]
    if table == "ql_legacy":
        expected.append(
            (table, "id 7", "time is not a 'YYYY-MM-DD HH:MM:SS[.ffffff]' timestamp")
        )
    assert rejects == expected


def test_utc_time_is_read_as_configured(database, tmp_path, monkeypatch):
    rows, _ = _extract(tmp_path, monkeypatch, database[1], "ql_n", timezone="UTC")
    # queue_log_realtime_use_gmt=yes: 23:59:59.5 on the 24th is 01:59:59.5 local on the 25th.
    assert [r["source_line"] for r in rows] == [1, 2, 3]
    assert rows[0]["event_at"] == dt.datetime(2026, 10, 24, 23, 59, 59, 500000, tzinfo=dt.UTC)


def test_same_caller_key_as_the_file_connector(database, tmp_path, monkeypatch):
    from connectors.pseudonymise import Pseudonymiser

    rows, _ = _extract(tmp_path, monkeypatch, database[1], "ql_legacy")
    cfg = minimal_config(tmp_path, [])
    assert rows[0]["caller_key"] == Pseudonymiser.from_config(cfg).phone("0611223344")


def test_missing_table_fails_naming_it(database, tmp_path, monkeypatch):
    with pytest.raises(SourceUnavailable, match="table 'queue_log' not found"):
        _extract(tmp_path, monkeypatch, database[1], "queue_log")
