"""A GLPI night reads the window's rows by index, never the whole history (issue 16).

The demo's GLPI database carries GLPI 10's own keys on the columns the connector reads by, the
SQLite indexes on the very expressions its window compares (``datetime(col)``) and the
statistics of those keys (``connectors/ticketing/glpi_schema.py``, ``vigie/demo/glpi.py``).
Every statement the connector runs for a night is captured as it runs and planned again with
``EXPLAIN QUERY PLAN``: no table is scanned; the window's arms are ranges on ``datetime(col)``
and the child rows are found by ticket id. So a night's GLPI landing costs the night's rows
(docs/performance.md, "GLPI: a night's landing by index").
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event

from connectors.pseudonymise import Pseudonymiser
from connectors.ticketing import glpi
from connectors.ticketing.glpi_schema import (
    GLPI_KEYS,
    REQUIRED_COLUMNS,
    WINDOW_TIMESTAMPS,
    create_glpi_tables,
)
from vigie.config import VigieConfig, load_config
from vigie.demo import DEFAULT_SEED
from vigie.demo.calendar_helpers import DemoCalendar
from vigie.demo.glpi import generate_glpi
from vigie.intervals import night_for_day

PROJECT_DIR = Path(__file__).resolve().parents[3]
# Seven months of demo history at scale 1 (about 4,000 tickets): the night is a small part of it.
FIRST, NIGHT = dt.date(2026, 5, 1), dt.date(2026, 11, 26)

BY_TICKET = re.compile(
    r"SEARCH (glpi_\w+) USING (?:COVERING )?INDEX (glpi_\w+) \((?:tickets_id=\?|itemtype=\? AND items_id=\?)\)"
)
# The window's arms (the ticket table under its alias ``active``): a range on datetime(col).
IN_WINDOW = re.compile(r"SEARCH (\w+) USING INDEX (glpi_\w+_datetime_\w+) \(<expr>>\? AND <expr><\?\)")
BY_ID = re.compile(
    r"SEARCH glpi_tickets USING (?:INTEGER PRIMARY KEY \(rowid=\?\)"
    r"|COVERING INDEX glpi_tickets_is_deleted \(is_deleted=\? AND rowid=\?\))"
)
# The union of the arms' ticket ids (``active_ids``) is read whole: it holds the window's ids.
NOT_ACCESS = re.compile(
    r"LIST SUBQUERY \d+|CO-ROUTINE active_ids|COMPOUND QUERY|LEFT-MOST SUBQUERY|UNION USING TEMP B-TREE"
    r"|SCAN active_ids|USE TEMP B-TREE FOR ORDER BY"
)


@pytest.fixture(scope="module")
def demo_glpi(tmp_path_factory: pytest.TempPathFactory) -> tuple[VigieConfig, Path]:
    root = tmp_path_factory.mktemp("glpi_plans")
    (root / "config").mkdir()
    cfg = load_config(PROJECT_DIR / "config" / "vigie.yml").model_copy(update={"base_dir": root / "config"})
    (src,) = cfg.sources_of("glpi_sql")
    generate_glpi(cfg, src, DemoCalendar.from_config(cfg, FIRST, NIGHT), FIRST, NIGHT, 1.0, DEFAULT_SEED)
    assert src.path is not None
    return cfg, cfg.path(src.path)


@pytest.fixture(scope="module")
def night_statements(demo_glpi, monkeypatch_module) -> list[tuple[str, Any]]:
    """The SELECTs the connector runs to land NIGHT (the schema check's own queries apart)."""
    cfg, _ = demo_glpi
    captured: list[tuple[str, Any]] = []
    make_engine = glpi.make_engine

    def recording_engine(cfg: VigieConfig, source: Any) -> Any:
        engine = make_engine(cfg, source)

        @event.listens_for(engine, "before_cursor_execute")
        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "sqlite_master" not in statement:
                captured.append((statement, parameters))

        return engine

    monkeypatch_module.setattr(glpi, "make_engine", recording_engine)
    (src,) = cfg.sources_of("glpi_sql")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the expression indexes are not reflected, silently
        result = glpi.read_interval(
            cfg, src, night_for_day(NIGHT, "Europe/Paris"), Pseudonymiser(b"plans-key-0123456789abcdef01")
        )
    assert result.tables["glpi_tickets"].num_rows > 0
    return captured


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def plan(db: Path, statement: str, parameters: Any) -> list[str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [row[3] for row in con.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
    finally:
        con.close()


def test_every_query_of_a_night_is_an_index_search(demo_glpi, night_statements) -> None:
    _, db = demo_glpi
    # One SELECT per landed table, in the order read_all lands them.
    assert [re.search(r"\bFROM (\w+)", s).group(1) for s, _ in night_statements] == list(REQUIRED_COLUMNS)
    window_indexes: set[str] = set()
    for statement, parameters in night_statements:
        lines = plan(db, statement, parameters)
        assert not [line for line in lines if line.startswith("SCAN") and line != "SCAN active_ids"], (
            statement,
            lines,
        )
        for line in lines:
            if NOT_ACCESS.fullmatch(line) or BY_ID.fullmatch(line) or BY_TICKET.fullmatch(line):
                continue
            in_window = IN_WINDOW.fullmatch(line)
            assert in_window, (statement, line)
            window_indexes.add(in_window.group(2))
    # Every arm of the window, in every statement, is a range on its own datetime(col) index.
    assert window_indexes == {
        f"{table}_datetime_{column}" for table, columns in WINDOW_TIMESTAMPS.items() for column in columns
    }


def test_the_child_rows_are_found_by_ticket(demo_glpi, night_statements) -> None:
    _, db = demo_glpi
    first_access = {}
    for statement, parameters in night_statements[1:]:
        table = re.search(r"\bFROM (\w+)", statement).group(1)
        first_access[table] = plan(db, statement, parameters)[0]
    assert first_access == {
        "glpi_groups_tickets": "SEARCH glpi_groups_tickets USING COVERING INDEX glpi_groups_tickets_unicity (tickets_id=?)",
        "glpi_tickets_users": "SEARCH glpi_tickets_users USING COVERING INDEX glpi_tickets_users_unicity (tickets_id=?)",
        "glpi_itilfollowups": "SEARCH glpi_itilfollowups USING INDEX glpi_itilfollowups_item (itemtype=? AND items_id=?)",
        "glpi_tickettasks": "SEARCH glpi_tickettasks USING INDEX glpi_tickettasks_tickets_id (tickets_id=?)",
        "glpi_itilsolutions": "SEARCH glpi_itilsolutions USING INDEX glpi_itilsolutions_item (itemtype=? AND items_id=?)",
        "glpi_ticketsatisfactions": (
            "SEARCH glpi_ticketsatisfactions USING INDEX glpi_ticketsatisfactions_tickets_id (tickets_id=?)"
        ),
        "glpi_logs": "SEARCH glpi_logs USING INDEX glpi_logs_item (itemtype=? AND items_id=?)",
    }


def _indexes(db: Path) -> dict[str, str]:
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("select name, sql from sqlite_master where type = 'index' and sql is not null"))
    finally:
        con.close()


def test_glpi_keys_and_window_indexes(demo_glpi, tmp_path: Path) -> None:
    _, demo_db = demo_glpi
    fixture_db = tmp_path / "glpi.sqlite"
    engine = create_engine(f"sqlite:///{fixture_db}")
    create_glpi_tables(engine)
    engine.dispose()
    expected = {f"{table}_{key}" for table, keys in GLPI_KEYS.items() for key, _, _ in keys} | {
        f"{table}_datetime_{column}" for table, columns in WINDOW_TIMESTAMPS.items() for column in columns
    }
    # The fixtures' tables and the demo's carry the same indexes.
    assert set(_indexes(fixture_db)) == set(_indexes(demo_db)) == expected
    sql = _indexes(demo_db)
    assert sql["glpi_tickets_date_mod"] == "CREATE INDEX glpi_tickets_date_mod ON glpi_tickets (date_mod)"
    assert sql["glpi_itilfollowups_item"] == (
        "CREATE INDEX glpi_itilfollowups_item ON glpi_itilfollowups (itemtype, items_id)"
    )
    assert sql["glpi_ticketsatisfactions_tickets_id"] == (
        "CREATE UNIQUE INDEX glpi_ticketsatisfactions_tickets_id ON glpi_ticketsatisfactions (tickets_id)"
    )
    assert sql["glpi_tickets_datetime_date_mod"] == (
        "CREATE INDEX glpi_tickets_datetime_date_mod ON glpi_tickets (datetime(date_mod))"
    )
