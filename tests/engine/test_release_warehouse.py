"""The warehouse is released after every in-process dbt invocation, without paying a full
garbage collection when nothing holds it (vigie.transform.release_dbt_duckdb)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from vigie.transform import release_dbt_duckdb


@pytest.fixture
def collections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Full collections asked for, counted; the automatic collector is off meanwhile so a
    reference cycle stays alive until someone collects it."""
    calls: list[int] = []
    real = gc.collect

    def counted(generation: int = 2) -> int:
        calls.append(generation)
        return real(generation)

    monkeypatch.setattr(gc, "collect", counted)
    gc.disable()
    yield calls
    gc.enable()


def _warehouse(tmp_path: Path) -> Path:
    wh = tmp_path / "vigie.duckdb"
    con = duckdb.connect(str(wh))
    con.execute("create table t as select 1 as x")
    con.close()
    return wh


def test_nothing_holds_the_warehouse_no_full_collection(tmp_path: Path, collections: list[int]) -> None:
    wh = _warehouse(tmp_path)
    release_dbt_duckdb(wh)
    assert collections == []
    assert duckdb.connect(str(wh), read_only=True).sql("select x from t").fetchall() == [(1,)]


def test_a_connection_left_in_a_reference_cycle_is_freed(tmp_path: Path, collections: list[int]) -> None:
    wh = _warehouse(tmp_path)
    box: list[object] = [duckdb.connect(str(wh))]
    box.append(box)  # a cycle: only the collector frees it
    del box
    with pytest.raises(duckdb.Error):
        duckdb.connect(str(wh), read_only=True)

    release_dbt_duckdb(wh)

    assert collections == [2]
    assert duckdb.connect(str(wh), read_only=True).sql("select x from t").fetchall() == [(1,)]
