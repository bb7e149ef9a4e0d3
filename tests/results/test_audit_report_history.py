"""What the history keeps for the year's record, rule by rule, without dbt (vigie/history.py):
commitment versions by description, exclusion reasons replaced cell by cell. The same tables
filled by a real night: test_audit_report.py."""

from __future__ import annotations

import datetime as dt

import duckdb

from vigie.history import (
    CELL_KEY,
    EXCLUSION_CELLS,
    EXCLUSIONS,
    VERSIONS,
    record_periods,
    record_versions,
)

D1, D2, D3 = dt.date(2026, 4, 30), dt.date(2026, 5, 1), dt.date(2026, 5, 2)


def _commitments(con: duckdb.DuckDBPyConnection, threshold: float) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.commitments as select 'k' as commitment_id, "
        "date '2026-03-01' as commitment_version, 'Courriels' as label, 5.0 as target_value, "
        f"cast({threshold} as double) as threshold, 3 as min_volume, date '2026-03-01' as valid_from, "
        "cast(null as date) as valid_to, 'EC' as service_codes, true as is_in_force"
    )


def _versions(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(f"select threshold, first_recorded_on, last_recorded_on from {VERSIONS} order by all").fetchall()


def test_a_version_edited_in_place_keeps_both_descriptions_whatever_the_order_of_nights() -> None:
    con = duckdb.connect()
    con.execute("create schema history")
    _commitments(con, 0.8)
    assert record_versions(con, D1) == 1
    assert record_versions(con, D2) == 1  # same description: its nights widen
    _commitments(con, 0.85)  # the version's threshold edited in the configuration, same valid_from
    record_versions(con, D3)
    assert _versions(con) == [(0.8, D1, D2), (0.85, D3, D3)]
    _commitments(con, 0.8)
    record_versions(con, D1)  # a rerun of an older night (any order): the same table
    record_versions(con, D2)
    assert _versions(con) == [(0.8, D1, D2), (0.85, D3, D3)]


def _marts(con: duckdb.DuckDBPyConnection, reasons: list[tuple[str, int]], excluded: int) -> None:
    con.execute("create schema if not exists marts")
    con.execute("create or replace table marts.exclusion_reasons (period_grain varchar, period_start date, "
                "service_code varchar, channel varchar, exclusion_reason varchar, requests bigint, is_final boolean)")
    for reason, n in reasons:
        con.execute("insert into marts.exclusion_reasons values ('month', date '2026-03-01', 'EC', 'email', ?, ?, true)",
                    [reason, n])
    con.execute("create or replace table marts.service_indicators as select 'month' as period_grain, "
                "date '2026-03-01' as period_start, 'EC' as service_code, 'email' as channel, "
                f"'requests_excluded' as indicator, {excluded} as numerator, true as is_final")


def _exclusions(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(f"select exclusion_reason, requests, recorded_on from {EXCLUSIONS} order by all").fetchall()


def test_a_rewritten_cell_replaces_all_its_reasons_and_a_rerun_writes_the_same_rows() -> None:
    con = duckdb.connect()
    con.execute("create schema history")
    rows = "select * from marts.exclusion_reasons"
    _marts(con, [("auto_reply", 2), ("spam", 1)], 3)
    assert record_periods(con, EXCLUSIONS, rows, EXCLUSION_CELLS, CELL_KEY, D1, None) == 2
    record_periods(con, EXCLUSIONS, rows, EXCLUSION_CELLS, CELL_KEY, D1, None)
    assert _exclusions(con) == [("auto_reply", 2, D1), ("spam", 1, D1)]
    # a later night re-reads the month: the spam message was in fact an automatic reply
    _marts(con, [("auto_reply", 3)], 3)
    record_periods(con, EXCLUSIONS, rows, EXCLUSION_CELLS, CELL_KEY, D2, None)
    assert _exclusions(con) == [("auto_reply", 3, D2)]
    # no exclusion left in the cell: its reasons leave the history too
    _marts(con, [], 0)
    record_periods(con, EXCLUSIONS, rows, EXCLUSION_CELLS, CELL_KEY, D3, None)
    assert _exclusions(con) == []
    # a frozen period (starting before the freeze date) is never rewritten
    _marts(con, [("spam", 1)], 1)
    record_periods(con, EXCLUSIONS, rows, EXCLUSION_CELLS, CELL_KEY, D3, dt.date(2026, 4, 1))
    assert _exclusions(con) == []
