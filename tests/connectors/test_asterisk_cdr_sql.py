"""SQL cdr table on this machine's REAL PostgreSQL and MariaDB (throwaway databases).

Three tables per server: Asterisk's schema (start, answer, "end") with a text disposition,
the same with cdr_odbc's integer disposition, and FreePBX's (calldate, no answer/end).
Timestamps are naive local time (Europe/Paris, the default zone); night 2026-10-25 is
[2026-10-24 22:00Z, 2026-10-25 23:00Z). Caller names (clid) are latin-1 bytes that are not
UTF-8 (PostgreSQL: a SQL_ASCII database; MariaDB: a latin1 column): never read, never a crash.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from connectors.extract import extract_source
from tests.conftest import require_service
from tests.connectors.conftest import minimal_config

DAY = dt.date(2026, 10, 25)
UTC = dt.UTC
# start, answer, end, duration, billsec, text disposition, integer disposition, uniqueid
LEGS = [
    ("2026-10-24 23:30:00", "2026-10-24 23:30:05", "2026-10-24 23:31:05", 65, 60, "ANSWERED", 8, "1792877400.1"),
    ("2026-10-25 09:00:00", "2026-10-25 09:00:12", "2026-10-25 09:02:12", 132, 120, "ANSWERED", 8, "1792918800.2"),
    ("2026-10-25 02:30:00", "2026-10-25 02:30:03", "2026-10-25 02:30:15", 15, 12, "NO ANSWER", 0, "1792888200.3"),
    ("2026-10-25 10:00:00", None, "2026-10-25 10:00:30", 30, 0, "BUSY", 64, "1792922400.4"),
    ("2026-10-26 00:30:00", None, "2026-10-26 00:30:30", 30, 0, "NO ANSWER", 0, "1792971000.5"),
]  # fmt: skip

SERVERS = {
    "postgres": dict(
        port=5432, admin="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
        url="postgresql+psycopg2://postgres@127.0.0.1:5432/{db}?client_encoding=latin1",
        ts="timestamp",
        create="CREATE DATABASE {db} ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'",
        clid="varchar(80)", end='"end"', conn="postgres://postgres@127.0.0.1:5432/{db}",
    ),
    "mariadb": dict(
        port=3306, admin="mysql+pymysql://root@127.0.0.1:3306/mysql",
        url="mysql+pymysql://root@127.0.0.1:3306/{db}?charset=latin1", ts="datetime",
        create="CREATE DATABASE {db}", clid="varchar(80) CHARACTER SET latin1", end="`end`",
        conn="mysql://root@127.0.0.1:3306/{db}",
    ),
}  # fmt: skip


def _fill(engine: sa.Engine, s: dict) -> None:
    ts, end = s["ts"], s["end"]
    common = "accountcode varchar(20), src varchar(80), dst varchar(80), dcontext varchar(80), clid {clid}, channel varchar(80), dstchannel varchar(80), lastapp varchar(80), lastdata varchar(80)".format(
        clid=s["clid"]
    )
    tail = "duration integer, billsec integer, amaflags integer, uniqueid varchar(150), linkedid varchar(150)"
    with engine.begin() as c:
        c.execute(
            sa.text(
                f"CREATE TABLE cdr ({common}, start {ts}, answer {ts}, {end} {ts}, {tail}, disposition varchar(45), sequence integer)"
            )
        )
        c.execute(
            sa.text(
                f"CREATE TABLE cdr_odbc ({common}, start {ts}, answer {ts}, {end} {ts}, {tail}, disposition integer)"
            )
        )
        c.execute(
            sa.text(
                f"CREATE TABLE cdr_freepbx (calldate {ts}, {common}, {tail}, disposition varchar(45), did varchar(50), recordingfile varchar(255), cnum varchar(80), cnam {s['clid']})"
            )
        )
        for start, answer, stop, dur, bill, text, code, uid in LEGS:
            row = {
                "src": "06 01 02 03 04", "dst": "3001", "ch": "SIP/trunk-00000001",
                "dch": "Local/0612345678@from-internal-0000000b;1", "start": start, "answer": answer,
                "end": stop, "dur": dur, "bill": bill, "uid": uid, "clid": b"Fran\xe7ois".decode("latin-1"),
            }  # fmt: skip
            cols = f"src, dst, clid, channel, dstchannel, start, answer, {end}, duration, billsec, uniqueid, linkedid, disposition"
            vals = ":src, :dst, :clid, :ch, :dch, :start, :answer, :end, :dur, :bill, :uid, :uid, :disp"
            c.execute(sa.text(f"INSERT INTO cdr ({cols}) VALUES ({vals})"), row | {"disp": text})
            c.execute(
                sa.text(f"INSERT INTO cdr_odbc ({cols}) VALUES ({vals})"), row | {"disp": code}
            )
            c.execute(
                sa.text(
                    "INSERT INTO cdr_freepbx (calldate, src, dst, clid, cnam, channel, dstchannel, duration, billsec, uniqueid, linkedid, disposition) VALUES (:start, :src, :dst, :clid, :clid, :ch, :dch, :dur, :bill, :uid, :uid, :disp)"
                ),
                row | {"disp": text},
            )
        # Asterisk's schema numbers its CDRs (sequence): landed, it orders a call's legs
        c.execute(sa.text("UPDATE cdr SET sequence = 7"))


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    s = SERVERS[request.param]
    require_service(request.param, "127.0.0.1", s["port"])
    db = f"vigie_h10_cdr_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(s["admin"], isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(s["create"].format(db=db)))
    engine = sa.create_engine(s["url"].format(db=db))
    try:
        _fill(engine, s)
        engine.dispose()
        yield s["conn"].format(db=db)
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE {db}"))
        admin.dispose()


def _extract(tmp_path, monkeypatch, conn: str, table: str):
    monkeypatch.setenv("AIRFLOW_CONN_PBX_CDR_DB", conn)
    src = {
        "id": "pbx_cdr_sql",
        "type": "asterisk_cdr_sql",
        "connection_id": "pbx_cdr_db",
        "table": table,
    }
    batch = extract_source(minimal_config(tmp_path, [src]), "pbx_cdr_sql", DAY)
    legs = pq.read_table(batch.path / "cdr_legs.parquet").to_pylist()
    rejects = pq.read_table(batch.path / "rejects.parquet").to_pylist()
    return legs, [(r["source_file"], r["source_position"], r["reason"]) for r in rejects]


def _summary(legs):
    return [
        (
            r["source_line"],
            r["uniqueid"],
            r["start_at"],
            r["answer_at"],
            r["end_at"],
            r["disposition"],
        )
        for r in legs
    ]


NO_ANSWER_VOICE_MENU = (
    1, "1792888200.3", dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 twice: first (CEST)
    dt.datetime(2026, 10, 25, 0, 30, 3, tzinfo=UTC), dt.datetime(2026, 10, 25, 0, 30, 15, tzinfo=UTC),
    "NO ANSWER",
)  # fmt: skip
ANSWERED = (
    2, "1792918800.2", dt.datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
    dt.datetime(2026, 10, 25, 8, 0, 12, tzinfo=UTC), dt.datetime(2026, 10, 25, 8, 2, 12, tzinfo=UTC),
    "ANSWERED",
)  # fmt: skip
BUSY = (
    3, "1792922400.4", dt.datetime(2026, 10, 25, 9, 0, tzinfo=UTC), None,
    dt.datetime(2026, 10, 25, 9, 0, 30, tzinfo=UTC), "BUSY",
)  # fmt: skip


def test_asterisk_schema_text_disposition(server, tmp_path, monkeypatch):
    legs, rejects = _extract(tmp_path, monkeypatch, server, "cdr")
    assert _summary(legs) == [NO_ANSWER_VOICE_MENU, ANSWERED, BUSY]
    assert rejects == []
    assert legs[0]["billsec"] == 12  # NO ANSWER with billsec > 0 lands as is
    assert legs[0]["dstchannel"] == "Local/XXXXXXXXXX@from-internal-0000000b;1"
    assert legs[0]["src_key"] is not None and legs[0]["linkedid"] == "1792888200.3"
    assert {leg["sequence"] for leg in legs} == {7}


def test_integer_disposition_and_an_unknown_code(server, tmp_path, monkeypatch):
    legs, rejects = _extract(tmp_path, monkeypatch, server, "cdr_odbc")
    assert _summary(legs) == [NO_ANSWER_VOICE_MENU, ANSWERED]
    assert rejects == [
        ("cdr_odbc", "row 3 of night 2026-10-25", "disposition 64 is not an Asterisk disposition")
    ]


def test_freepbx_calldate_schema_derives_answer_and_end(server, tmp_path, monkeypatch):
    legs, rejects = _extract(tmp_path, monkeypatch, server, "cdr_freepbx")
    # end = calldate + duration; answer = end - billsec when billsec > 0.
    assert _summary(legs) == [NO_ANSWER_VOICE_MENU, ANSWERED, BUSY]
    assert rejects == []
    assert {leg["sequence"] for leg in legs} == {None}  # FreePBX's table has no sequence
