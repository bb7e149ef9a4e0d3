"""What the history keeps for the year's record, rule by rule, without dbt (vigie/history.py):
commitment versions by description, exclusion reasons replaced cell by cell; and how the record
words the period after a breach (vigie/results/audit_report.py). The same tables
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


def _month(start: dt.date, num: int, den: int, *, breached: bool, recovery: bool | None) -> dict:
    end = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return {"period_grain": "month", "period_start": start, "period_end": end, "numerator": num,
            "denominator": den, "threshold": 0.9, "min_volume": 3, "is_breached": breached,
            "is_complete": True, "is_recovery": recovery}


def test_the_period_after_a_breach_in_words() -> None:
    from zoneinfo import ZoneInfo

    from vigie.alerts.render import Texts
    from vigie.results.audit_report import _breach_lines

    texts = Texts("fr", ZoneInfo("Europe/Paris"))
    jan, feb, mar = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)

    def recovery(rows: list[dict], night: dt.date) -> list[str]:
        return [b.recovery for b in _breach_lines(rows, ["month"], 2026, 5, texts, night)]

    # January and February breached: one run, ended by March (the alert rules' recovery)
    rows = [_month(jan, 3, 6, breached=True, recovery=False), _month(feb, 4, 6, breached=True, recovery=False),
            _month(mar, 10, 10, breached=False, recovery=True)]
    lines = _breach_lines(rows, ["month"], 2026, 5, texts, D1)
    assert [(b.period, b.rate) for b in lines] == [
        ("de janvier 2026 à février 2026", "50\u00a0% (3 sur 6) ; 66,7\u00a0% (4 sur 6)")]
    assert recovery(rows, D1) == ["de nouveau dans l'engagement : mois de mars 2026, 100\u00a0% (10 sur 10) "
                                  "pour un seuil de 90\u00a0%"]
    # March recorded before the history kept recoveries (null): said, not guessed
    rows[2]["is_recovery"] = None
    assert recovery(rows, D1) == ["retour non enregistré : la période suivante a été figée dans l'historique "
                                  "avant que Vigie n'y garde les retours dans l'engagement"]
    # no March row: not over yet on the night of 30 March, over (and empty) from the 31st
    assert recovery(rows[:2], dt.date(2026, 3, 30)) == ["période suivante pas encore terminée"]
    assert recovery(rows[:2], dt.date(2026, 3, 31)) == [
        "pas de retour constaté : aucune demande jugée la période suivante"]
