"""run_transform end to end on the demo configuration with an empty landing.

A first night on a fresh install (no source has landed anything yet) must build every model
and pass every data test; a rerun must give identical marts; the warehouse must be closed
afterwards (other tasks open it, possibly read-only); a failing model must be named.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from vigie.config import Outputs, VigieConfig, load_config
from vigie.transform import TransformFailed, run_transform
from vigie.warehouse_config import calendar_range

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "vigie.yml"
NIGHT = dt.date(2026, 11, 28)


def _cfg(root: Path) -> VigieConfig:
    cfg = load_config(DEMO_CONFIG)
    return cfg.model_copy(
        update={"outputs": Outputs(warehouse=str(root / "wh" / "vigie.duckdb"), landing=str(root / "landing"))}
    )


def _snapshot(warehouse: Path) -> dict[str, list]:
    con = duckdb.connect(str(warehouse), read_only=True)  # fails if dbt kept the file open
    try:
        out = {}
        for table in ("requests", "commitment_evaluations", "service_indicators"):
            out[table] = con.execute(f"select * from marts.{table} order by all").fetchall()
        out["settings"] = con.execute("select * from config.settings").fetchall()
        out["calendar"] = con.execute(
            "select count(*), min(local_date), max(local_date) from intermediate.int_service_days_classified"
        ).fetchall()
        return out
    finally:
        con.close()


def test_first_night_on_empty_landing_builds_and_reruns_identically(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    run_transform(cfg, NIGHT)
    first = _snapshot(tmp_path / "wh" / "vigie.duckdb")
    assert first["requests"] == [] and first["service_indicators"] == []
    (_, run_day, as_of, start, end) = first["settings"][0][1:]
    assert run_day == NIGHT
    assert as_of == dt.datetime(2026, 11, 28, 23, 0, tzinfo=dt.UTC)
    assert (start, end) == (dt.date(2026, 10, 28), dt.date(2028, 1, 2))
    # six services x 432 days
    assert first["calendar"] == [(6 * 432, dt.date(2026, 10, 28), dt.date(2028, 1, 2))]
    assert (tmp_path / "landing" / "_empty" / "day=1900-01-01" / "glpi_tickets.parquet").exists()

    run_transform(cfg, NIGHT)
    assert _snapshot(tmp_path / "wh" / "vigie.duckdb") == first


def test_calendar_range_starts_before_the_earliest_landed_day(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    (tmp_path / "landing" / "pbx_queue_log" / "day=2026-09-15").mkdir(parents=True)
    (tmp_path / "landing" / "_empty" / "day=1900-01-01").mkdir(parents=True)  # placeholders ignored
    assert calendar_range(cfg, NIGHT) == (dt.date(2026, 8, 15), dt.date(2028, 1, 2))


def test_a_failing_model_is_named(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    run_transform(cfg, NIGHT)
    con = duckdb.connect(str(tmp_path / "wh" / "vigie.duckdb"))
    try:
        # break a source the calendar reads: the next build must fail and say where
        con.execute("drop table config.closures")
    finally:
        con.close()
    from vigie.transform import run_dbt

    with pytest.raises(TransformFailed) as err:
        run_dbt(cfg, NIGHT, ["build", "--exclude", "resource_type:unit_test"])
    assert "model.vigie.int_service_days_classified" in str(err.value)


def test_calendar_range_ignores_batches_of_later_nights(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    (tmp_path / "landing" / "mairie_mail" / "day=2026-11-27").mkdir(parents=True)
    (tmp_path / "landing" / "mairie_mail" / "day=2026-12-05").mkdir(parents=True)
    assert calendar_range(cfg, NIGHT) == (dt.date(2026, 10, 27), dt.date(2028, 1, 2))


def test_calendar_range_covers_the_oldest_landed_ticket(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from connectors.landing_schemas import GLPI_TICKETS

    cfg = _cfg(tmp_path)
    batch = tmp_path / "landing" / "glpi" / "day=2026-11-20"
    batch.mkdir(parents=True)
    created = dt.datetime(2025, 1, 9, 23, 30, tzinfo=dt.UTC)  # 10 January 00:30 in Paris
    row = {name: None for name in GLPI_TICKETS.names} | {
        "source_id": "glpi", "id": 7, "date": created, "date_creation": created,
        "date_mod": dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
    }
    pq.write_table(pa_table(GLPI_TICKETS, [row]), batch / "glpi_tickets.parquet")
    assert calendar_range(cfg, NIGHT) == (dt.date(2024, 12, 10), dt.date(2028, 1, 2))


def test_calendar_range_covers_the_oldest_landed_email_message(tmp_path: Path) -> None:
    """A first IMAP read lands the folder's history in the first night's batch."""
    import pyarrow.parquet as pq

    from connectors.landing_schemas import EMAIL_MESSAGES

    cfg = _cfg(tmp_path)
    batch = tmp_path / "landing" / "mairie_mail" / "day=2026-11-20"
    batch.mkdir(parents=True)
    received = dt.datetime(2023, 3, 1, 8, 0, tzinfo=dt.UTC)
    row = {name: None for name in EMAIL_MESSAGES.names} | {
        "source_id": "mairie_mail", "received_at": received,
    }
    pq.write_table(pa_table(EMAIL_MESSAGES, [row]), batch / "email_messages.parquet")
    assert calendar_range(cfg, NIGHT) == (dt.date(2023, 1, 29), dt.date(2028, 1, 2))


def pa_table(schema, rows):  # tiny helper for the test above
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=schema)


def _failing_rows_after(tmp_path: Path, model: str, statements: list[str]) -> list[str]:
    """Build night NIGHT, change the warehouse by ``statements``, build ``model`` again: the
    rows its one failing column_checks test prints (TransformFailed), after checking its id."""
    cfg = _cfg(tmp_path)
    run_transform(cfg, NIGHT)
    con = duckdb.connect(str(tmp_path / "wh" / "vigie.duckdb"))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    from vigie.transform import run_dbt

    with pytest.raises(TransformFailed) as err:
        run_dbt(cfg, NIGHT, ["build", "--select", model, "--exclude", "resource_type:unit_test"])
    (failed,) = err.value.failed_nodes
    assert failed.startswith(f"test.vigie.column_checks_{model}_")
    assert ": fail Got 2 results, configured to fail if != 0 (" in failed
    return failed.split(" (", 1)[1].rstrip(")").split("; ")


def test_failing_column_checks_are_named(tmp_path: Path) -> None:
    # One column_checks test per model checks all its column rules at once
    # (dbt_project/tests/generic/column_checks.sql); the failure still names each column.
    rows = _failing_rows_after(tmp_path, "services", [
        "update config.services set service_name = null where service_code in ('CCAS', 'URBANISME')",
        "update config.services set service_code = 'CCAS' where service_code = 'ENFANCE'",
    ])
    assert sorted(rows) == [
        "column_name='service_code', check_name='unique', value='CCAS', failing_rows=2",
        "column_name='service_name', check_name='not_null', value=None, failing_rows=2",
    ]


def test_a_duplicated_key_is_named_with_its_values(tmp_path: Path) -> None:
    # A model's keys (column_checks' unique_combinations) are checked by the same test as its
    # columns; a null in a key counts as a value, so two rows with the same null key are a duplicate.
    rows = _failing_rows_after(tmp_path, "service_days", [
        "insert into intermediate.int_service_days_classified select * from"
        " intermediate.int_service_days_classified where service_code = 'CCAS' and local_date = '2026-12-25'",
        "insert into intermediate.int_service_days_classified select * replace (cast(null as date) as local_date)"
        " from intermediate.int_service_days_classified where service_code = 'ENFANCE'"
        " and local_date in ('2026-12-01', '2026-12-02')",
    ])
    assert sorted(rows) == [
        "column_name='service_code, calendar_date', check_name='unique_combination',"
        " value='CCAS, 2026-12-25', failing_rows=2",
        "column_name='service_code, calendar_date', check_name='unique_combination',"
        " value='ENFANCE, null', failing_rows=2",
    ]
