"""BI snapshot: readable by readers in other processes, swapped atomically, DuckDB 1.4 format."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from h5_builders import create_warehouse, indicator, make_config

from vigie.publish import PublishRefused, parquet_dir, publish_snapshot

DAY = dt.date(2026, 11, 16)
AS_OF = dt.datetime(2026, 11, 16, 23, 0, tzinfo=dt.UTC)
PY = sys.executable


def marts(n_requests: int) -> dict:
    return {
        "requests": [
            {"request_id": f"glpi:glpi:{i}", "request_ref": f"GLPI-{i}", "source_system": "glpi",
             "channel": "online", "service_code": "URBANISME", "is_excluded": False,
             "received_at": AS_OF - dt.timedelta(hours=i)}
            for i in range(n_requests)
        ],
        "service_indicators": [
            indicator("email_response_5bd", "ETAT_CIVIL", "day", DAY, DAY + dt.timedelta(days=1), 2, 5, 0.9, 3, as_of=AS_OF),
        ],
    }


@pytest.fixture
def cfg(tmp_path: Path):
    c = make_config(tmp_path)
    create_warehouse(c, marts(3))
    return c


def _count(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select count(*) from marts.requests").fetchone()[0]
    finally:
        con.close()


def test_snapshot_has_marts_info_and_bi_storage_version(cfg) -> None:
    path = publish_snapshot(cfg, DAY)
    assert path == cfg.path("var/bi/vigie_bi.duckdb")
    con = duckdb.connect()
    try:
        con.execute(f"attach '{path}' as s (read_only)")
        assert con.execute("select tags['storage_version'] from duckdb_databases() where database_name = 's'").fetchone()[0] == "v1.4.0+"
        tables = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() where database_name = 's' order by 1"
        ).fetchall()
        assert [t[0] for t in tables] == ["main.snapshot_info", "marts.commitment_evaluations", "marts.requests",
                                         "marts.service_indicators"]
        assert con.execute("select count(*) from s.marts.requests").fetchone()[0] == 3
        night, as_of, names = con.execute("select night, as_of, tables from s.main.snapshot_info").fetchone()
        assert night == DAY and as_of == AS_OF
        assert names == ["commitment_evaluations", "requests", "service_indicators"]
        cols = [r[0] for r in con.execute("describe s.marts.service_indicators").fetchall()]
        assert cols[:3] == ["period_grain", "period_start", "period_end"] and len(cols) == 19
        assert cols[-2:] == ["is_complete", "completeness_note"]
    finally:
        con.close()
    pq_dir = parquet_dir(path)
    assert pq_dir.is_symlink()
    assert sorted(p.name for p in pq_dir.iterdir()) == [
        "commitment_evaluations.parquet", "requests.parquet", "service_indicators.parquet", "snapshot_info.parquet",
    ]
    assert pq.read_table(pq_dir / "requests.parquet").num_rows == 3
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith((".tmp", ".wal"))]
    assert leftovers == []


def test_bi_reader_not_blocked_by_a_writer_on_the_warehouse(cfg) -> None:
    publish_snapshot(cfg, DAY)
    writer = subprocess.Popen(
        [PY, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); c.execute('create table t_lock as select 1');"
                   " print('locked', flush=True); sys.stdin.readline()", str(cfg.path("var/warehouse/vigie.duckdb"))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "locked"
        # the warehouse is locked by another process, the snapshot is not
        with pytest.raises(duckdb.IOException):
            duckdb.connect(str(cfg.path("var/warehouse/vigie.duckdb")), read_only=True)
        assert _count(cfg.path("var/bi/vigie_bi.duckdb")) == 3
    finally:
        writer.communicate("done\n", timeout=30)


def test_reader_opened_before_publish_keeps_old_content(cfg) -> None:
    snapshot = publish_snapshot(cfg, DAY)
    reader = subprocess.Popen(
        [PY, "-c",
         "import duckdb, sys\n"
         "c = duckdb.connect(sys.argv[1], read_only=True)\n"
         "q = 'select count(*) from marts.requests'\n"
         "print(c.execute(q).fetchone()[0], flush=True)\n"
         "sys.stdin.readline()\n"
         "print(c.execute(q).fetchone()[0], flush=True)\n",
         str(snapshot)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "3"
        inode_before = os.stat(snapshot).st_ino
        create_warehouse(cfg, marts(7))
        publish_snapshot(cfg, DAY)  # does not wait for the reader
        assert os.stat(snapshot).st_ino != inode_before
        out, _ = reader.communicate("go\n", timeout=30)
        assert out.strip() == "3"  # the open connection still reads the old file
    finally:
        if reader.poll() is None:
            reader.kill()
    assert _count(snapshot) == 7  # a new connection sees the new night


def test_failed_publish_leaves_previous_snapshot_and_no_temp_file(cfg, monkeypatch) -> None:
    snapshot = publish_snapshot(cfg, DAY)
    before = snapshot.read_bytes()
    pq_target = os.readlink(parquet_dir(snapshot))
    create_warehouse(cfg, marts(9))
    import vigie.publish as publish

    real_quote = publish._quote
    seen: list[str] = []

    def fail_on_second_table(name: str) -> str:
        seen.append(name)
        if name == "requests":  # commitment_evaluations is already copied into the temp file
            raise OSError("disk full")
        return real_quote(name)

    monkeypatch.setattr(publish, "_quote", fail_on_second_table)
    with pytest.raises(OSError, match="disk full"):
        publish_snapshot(cfg, DAY)
    assert [n for n in seen if n != "vigie"] == ["commitment_evaluations", "requests"]  # "vigie": the catalog
    assert snapshot.read_bytes() == before
    assert _count(snapshot) == 3
    assert os.readlink(parquet_dir(snapshot)) == pq_target
    hidden = sorted(p.name for p in snapshot.parent.iterdir() if p.name.startswith("."))
    assert hidden == [pq_target]  # no temp database, no half-filled Parquet version
    monkeypatch.setattr(publish, "_quote", real_quote)
    publish_snapshot(cfg, DAY)
    assert _count(snapshot) == 9


def test_parquet_files_hold_the_rows_of_the_snapshot_file(cfg) -> None:
    """A BI tool reading the Parquet copies sees the rows of the DuckDB file's tables."""
    create_warehouse(cfg, marts(5))
    snapshot = publish_snapshot(cfg, DAY)
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        for table in ("commitment_evaluations", "requests", "service_indicators"):
            target = parquet_dir(snapshot) / f"{table}.parquet"
            for a, b in ((f"marts.{table}", f"'{target}'"), (f"'{target}'", f"marts.{table}")):
                assert con.execute(f"select count(*) from (from {a} except all from {b})").fetchone()[0] == 0
            assert con.execute(f"select count(*) from '{target}'").fetchone()[0] == con.execute(
                f"select count(*) from marts.{table}").fetchone()[0]
    finally:
        con.close()


def test_parquet_versions_are_pruned_to_two(cfg) -> None:
    for _ in range(4):
        publish_snapshot(cfg, DAY)
    bi = cfg.path("var/bi")
    versions = sorted(p.name for p in bi.iterdir() if p.name.startswith(".vigie_bi_parquet.") and p.is_dir())
    assert len(versions) == 2
    assert os.readlink(parquet_dir(bi / "vigie_bi.duckdb")) == versions[-1]


def test_refuses_after_failed_checks(cfg) -> None:
    summary = cfg.path("var/gx") / "summaries" / "2026-11-16.json"
    summary.parent.mkdir(parents=True)
    summary.write_text(json.dumps({"night": "2026-11-16", "success": False}))
    with pytest.raises(PublishRefused, match="checks of night 2026-11-16 failed"):
        publish_snapshot(cfg, DAY)
    assert not cfg.path("var/bi/vigie_bi.duckdb").exists()


def test_publish_while_this_process_holds_the_warehouse_read_write(cfg) -> None:
    """dbt-duckdb keeps its database instance open after an in-process build (local runner)."""
    held = duckdb.connect(str(cfg.path("var/warehouse/vigie.duckdb")))
    try:
        snapshot = publish_snapshot(cfg, DAY)
        assert held.execute("select count(*) from duckdb_databases() where database_name = 'snap'").fetchone()[0] == 0
    finally:
        held.close()
    assert _count(snapshot) == 3
