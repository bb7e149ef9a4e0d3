"""CDR-only calls whose first written leg is a ``Local/`` helper, end to end (issue 13, item 1).

tests/fixtures/asterisk/cdr_timedelay/Master.csv is a 21-column cdr_csv file (newcdrcolumns=yes,
local time) of Monday 2026-11-23 as an Asterisk with a time-delay dialplan writes it: the caller's
leg (``PJSIP/trunk-…``, its service's context) dials ``Local/s@TimeDelay``, whose ``;2`` half
dials the agent; that helper leg starts in the same second and, ending first, is written first.
Before the rule "never a Local/ channel, then CDR sequence, then start, then line", the helper
(context ``TimeDelay``, mapped to no service) was taken as the call's first leg and the call
vanished: 4 of the 7 calls here (T2, T4, T7, and T5 whose ring-group leg with the higher
sequence is written first). Now every call is counted for its service:

| call | service | legs | outcome |
| --- | --- | --- | --- |
| T1 08:05 | TECHNIQUE | 1 | answered by 201 after 9 s |
| T2 08:20 | TECHNIQUE | 2 (helper first) | answered by 202 (through the helper) after 14 s |
| T3 09:00 | TECHNIQUE | 1 | abandoned |
| T4 10:30 | ENFANCE | 2 (helper first) | abandoned |
| T5 11:00 | ENFANCE | 2 (ext-group leg, sequence 9, first) | answered by 301 after 6 s |
| T6 14:00 | TECHNIQUE | 1 | answered by 203 after 5 s |
| T7 17:30 | TECHNIQUE | 2 (helper first) | out_of_hours (closed since 16:30) |
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from connectors.extract import extract_source
from tests.connectors.conftest import ASTERISK_FIXTURES, minimal_config

DAY = dt.date(2026, 11, 23)


def _extract(tmp_path: Path):
    shutil.copytree(ASTERISK_FIXTURES / "cdr_timedelay", tmp_path / "cdr_timedelay")
    source = {
        "id": "cdr",
        "type": "asterisk_cdr_csv",
        "path": "cdr_timedelay/Master.csv",
        "timezone": "Europe/Paris",
        "columns": 21,
    }
    return extract_source(minimal_config(tmp_path, [source]), "cdr", DAY)


def test_the_21_column_layout_lands_the_cdr_sequence(tmp_path) -> None:
    batch = _extract(tmp_path / "src")
    legs = pq.read_table(batch.path / "cdr_legs.parquet").to_pylist()
    assert batch.row_counts == {"cdr_legs": 11}
    assert [r["sequence"] for r in legs] == [1, 4, 3, 5, 7, 6, 9, 8, 10, 12, 11]
    assert [r["channel"] for r in legs[1:3]] == [
        "Local/s@TimeDelay-00000004;2",
        "PJSIP/trunk-00000003",
    ]
    assert {r["linkedid"] for r in legs[1:3]} == {"1795418400.3"}


def test_a_call_whose_local_leg_is_written_first_is_counted_for_its_service(
    dbt_sandbox, night_vars_for, statuses_of, tmp_path
) -> None:
    batch = _extract(tmp_path / "src")
    box = dbt_sandbox
    shutil.copytree(batch.path, box.landing / "cdr" / f"day={DAY.isoformat()}")
    box.prepare(DAY)
    con = duckdb.connect(str(box.warehouse))
    try:
        con.execute(
            "insert into config.phone_cdr_contexts values "
            "('cdr', 'from-pstn-technique', 'TECHNIQUE', '^PJSIP/[23]\\d\\d-'), "
            "('cdr', 'from-pstn-enfance', 'ENFANCE', '^PJSIP/[23]\\d\\d-')"
        )
    finally:
        con.close()
    built = box.dbt(["run", "--select", "+phone_indicators"], night_vars_for(DAY))
    assert built.success, statuses_of(built)

    calls = box.query(
        "select call_group_id, service_code, legs_count, call_outcome, wait_seconds, "
        "strftime(received_at, '%H:%M:%S') "
        "from intermediate.int_phone_calls_from_cdr order by received_at"
    )
    assert calls == [
        ("1795417500.1", "TECHNIQUE", 1, "answered", 9.0, "07:05:00"),
        ("1795418400.3", "TECHNIQUE", 2, "answered", 14.0, "07:20:00"),
        ("1795420800.7", "TECHNIQUE", 1, "abandoned", None, "08:00:00"),
        ("1795426200.9", "ENFANCE", 2, "abandoned", None, "09:30:00"),
        ("1795428000.13", "ENFANCE", 2, "answered", 6.0, "10:00:00"),
        ("1795438800.16", "TECHNIQUE", 1, "answered", 5.0, "13:00:00"),
        ("1795451400.18", "TECHNIQUE", 2, "out_of_hours", 7.0, "16:30:00"),
    ]
    day_rows = box.query(
        "select service_code, calls_received, calls_offered, calls_answered, pickup_rate, "
        "calls_abandoned, out_of_hours_calls from marts.phone_indicators "
        "where period_grain = 'day' and period_start = date '2026-11-23' order by service_code"
    )
    assert day_rows == [("ENFANCE", 2, 2, 1, 0.5, 1, 0), ("TECHNIQUE", 5, 4, 3, 0.75, 1, 1)]
