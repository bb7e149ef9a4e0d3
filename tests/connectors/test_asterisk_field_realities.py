"""Every field reality of source-formats.md §1-2 in one night (tests/fixtures/asterisk/field_realities).

Night 2026-11-10 in Europe/Paris (CET): [2026-11-09 23:00Z, 2026-11-10 23:00Z). queue_log epochs
from 1794297600 = 08:00Z = 09:00 local. Master.csv: 21 columns (newcdrcolumns), local time,
uniqueid/linkedid prefixed by the system name (``pbx1-``), a latin-1 caller name.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow.parquet as pq

from connectors.extract import extract_source
from tests.connectors.conftest import ASTERISK_FIXTURES, QUEUES, minimal_config

DAY = dt.date(2026, 11, 10)


def _cfg(tmp_path: Path):
    shutil.copytree(ASTERISK_FIXTURES / "field_realities", tmp_path / "fr")
    sources = [
        {"id": "ql", "type": "asterisk_queue_log", "path": "fr/queue_log*", "queues": QUEUES},
        {
            "id": "cdr",
            "type": "asterisk_cdr_csv",
            "path": "fr/Master.csv",
            "timezone": "Europe/Paris",
        },
    ]
    return minimal_config(tmp_path, sources)


def _read(batch, table: str):
    rows = pq.read_table(batch.path / f"{table}.parquet").to_pylist()
    rejects = pq.read_table(batch.path / "rejects.parquet").to_pylist()
    return rows, [(r["source_file"], r["source_position"], r["reason"]) for r in rejects]


def test_queue_log_field_realities(tmp_path):
    batch = extract_source(_cfg(tmp_path), "ql", DAY)
    rows, rejects = _read(batch, "queue_log_events")
    assert [r["source_line"] for r in rows] == [*range(1, 16), 20]  # 16 events
    assert rejects == [
        (
            "queue_log",
            "line 16",
            "fewer than 5 fields (1); expected epoch|callid|queuename|agent|event|data...",
        ),
        ("queue_log", "line 17", "epoch (field 1) is not an integer number of seconds"),
        ("queue_log", "line 18", "event name (field 5) is empty"),
        (
            "queue_log",
            "line 19",
            "fewer than 5 fields (4); expected epoch|callid|queuename|agent|event|data...",
        ),
    ]
    by_line = {r["source_line"]: r for r in rows}
    # RINGNOANSWER's ring time is in milliseconds and lands verbatim.
    assert by_line[2]["event"] == "RINGNOANSWER" and by_line[2]["data1"] == "15000"
    # ATTENDEDTRANSFER: method, method-data, holdtime, calltime, origposition.
    att = by_line[4]
    assert (att["data1"], att["data3"], att["data4"], att["data5"]) == ("BRIDGE", "20", "80", "1")
    assert att["data2"] == "XXXXXXXXXX.3"  # method-data is free text: digit runs of 6+ masked
    # BLINDTRANSFER: extension, context, holdtime, calltime, origposition; the number is masked.
    blind = by_line[7]
    assert [blind[f"data{i}"] for i in range(1, 6)] == [
        "XXXXXXXXXX",
        "from-internal",
        "10",
        "90",
        "1",
    ]
    # Overflow: one callid, two queues in turn.
    assert [(r["queue_name"], r["event"]) for r in rows if r["callid"] == "1794298000.6"] == [
        ("accueil", "ENTERQUEUE"),
        ("accueil", "EXITWITHTIMEOUT"),
        ("accueil-debordement", "ENTERQUEUE"),
        ("accueil-debordement", "CONNECT"),
        ("accueil-debordement", "COMPLETEAGENT"),
    ]
    assert by_line[14]["event"] == "ABANDON" and by_line[14]["data3"] is None  # empty waittime
    orphan = by_line[15]  # ENTERQUEUE with no closing event, anonymous caller
    assert orphan["caller_key"] is None and not any(
        r["callid"] == orphan["callid"] for r in rows[15:]
    )
    # ENTERQUEUE: number hashed, name and the undefined 5th field (here 'x|y') nulled.
    assert by_line[1]["caller_key"] and by_line[1]["data2"] is None and by_line[1]["data4"] is None
    assert by_line[20]["data5"] is None and by_line[20]["data3"] == "1"


def test_master_csv_21_columns_local_time(tmp_path):
    batch = extract_source(_cfg(tmp_path), "cdr", DAY)
    legs, rejects = _read(batch, "cdr_legs")
    assert [r["source_line"] for r in legs] == [1, 2, 4]
    assert rejects == [
        ("Master.csv", "line 3", "expected 21 columns, found 20"),
        (
            "Master.csv",
            "line 5",
            "answer (column 11) is neither empty nor a 'YYYY-MM-DD HH:MM:SS' timestamp",
        ),
        ("Master.csv", "line 6", "duration (column 13) is not a whole number of seconds"),
    ]
    first, voice_menu, latin1 = legs
    assert first["start_at"] == dt.datetime(2026, 11, 10, 8, 0, tzinfo=dt.UTC)  # 09:00 CET
    assert (first["uniqueid"], first["linkedid"]) == ("pbx1-1794297600.1", "pbx1-1794297600.1")
    # NO ANSWER with billsec > 0 (a voice menu answered the channel) lands as is.
    assert (voice_menu["disposition"], voice_menu["billsec"]) == ("NO ANSWER", 12)
    assert voice_menu["answer_at"] == dt.datetime(2026, 11, 10, 8, 5, 1, tzinfo=dt.UTC)
    # The latin-1 caller name did not crash the batch; the leg is read, the name dropped.
    assert latin1["answer_at"] is None and latin1["disposition"] == "NO ANSWER"
