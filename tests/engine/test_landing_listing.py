"""The landing listing (vigie/landing_listing.py) is what DuckDB's read_blob finds, night after night.

dbt's on-run-start hook (macros/sync_landing.sql) copies the files of this listing; it must list
exactly the files of ``<landing>/*/day=*/*.parquet`` with read_blob's size and modification time,
while re-listing only the batch directories that are new or changed. Each step below changes the
landing as Vigie does (a batch landed, the same batch landed again, a marker, a placeholder, a
purged batch) and compares the listing with read_blob's, row for row.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa

from connectors.landing import ExtractResult, land_batch
from connectors.landing_layout import ensure_empty_landing_tables, write_marker
from connectors.landing_schemas import ALL_TABLES
from vigie.landing_listing import write_landing_listing

D1, D2 = dt.date(2026, 11, 24), dt.date(2026, 11, 25)


def listed(listing: Path) -> list[tuple]:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    return con.execute(
        f"select landing_table, filename, size, last_modified from read_parquet('{listing}') order by all"
    ).fetchall()


def globbed(root: Path) -> list[tuple]:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    return con.execute(
        "select regexp_extract(filename, '([^/]+)[.]parquet$', 1), filename, size, last_modified "
        f"from read_blob('{root}/*/day=*/*.parquet') order by all"
    ).fetchall()


def land(root: Path, day: dt.date, rows: int) -> None:
    """A queue_log batch of `rows` events, landed as the extract lands it (a directory swap)."""
    schema = ALL_TABLES["queue_log_events"]
    events = pa.Table.from_pylist(
        [{"source_id": "pbx", "source_file": "queue_log", "source_line": i, "callid": f"c{i}", "event": "ENTERQUEUE",
          "event_at": dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)} for i in range(rows)], schema=schema)
    land_batch(root, "pbx", "asterisk_queue_log", day, ExtractResult(tables={"queue_log_events": events}))


def test_listing_equals_read_blob_through_landings_markers_and_purges(tmp_path: Path) -> None:
    root, listing = tmp_path / "landing", tmp_path / "warehouse" / "landing_listing.parquet"
    ensure_empty_landing_tables(root)
    land(root, D1, 2)

    def check() -> list[tuple]:
        rows = listed(write_landing_listing(str(root), listing))
        assert rows == globbed(root)
        return rows

    first = check()
    assert ("queue_log_events", f"{root}/pbx/day=2026-11-24/queue_log_events.parquet") in [r[:2] for r in first]
    assert check() == first  # nothing changed: the same rows

    land(root, D2, 1)  # a new batch
    assert len(check()) == len(first) + 2  # its queue_log_events and rejects
    land(root, D1, 3)  # the same day landed again: a new directory, new files
    relanded = check()
    assert [r for r in relanded if "day=2026-11-24/queue_log" in r[1]] != [
        r for r in first if "day=2026-11-24/queue_log" in r[1]]
    write_marker(root, "pbx", D2, "_CONFIRMED.json", {"by": "test"})  # the directory changes, not its Parquet
    assert check() == relanded
    shutil.rmtree(root / "pbx" / "day=2026-11-25")  # retention's purge
    assert not [r for r in check() if "day=2026-11-25" in r[1]]
    (root / "_empty" / "day=1900-01-01" / "rejects.parquet").unlink()
    ensure_empty_landing_tables(root)  # a placeholder rewritten (a new landing schema)
    check()


def test_a_missing_or_unreadable_listing_lists_everything(tmp_path: Path) -> None:
    root, listing = tmp_path / "landing", tmp_path / "landing_listing.parquet"
    land(root, D1, 1)
    listing.write_text("not parquet")
    assert listed(write_landing_listing(str(root), listing)) == globbed(root)
    empty_root = tmp_path / "nothing landed"
    assert listed(write_landing_listing(str(empty_root), tmp_path / "other.parquet")) == []
