"""The BI snapshot: a read-only copy of the marts, swapped in atomically after each good night.

BI tools (Metabase, Superset, Power BI through ODBC, Excel) must never be blocked by the nightly
run, nor block it (domain.md §1), and DuckDB allows one writer per file with no reader beside
it. So BI tools never open the warehouse: they read ``outputs.bi_snapshot``, a separate file
that the run rewrites whole and swaps in with ``os.replace``:

- the new file is written under a temporary name in the same directory, checkpointed and
  detached (no ``.wal`` left), then renamed over the old one: a reader opening the path gets
  the old file or the new one, never a half-written one;
- a reader that already has the old file open keeps reading it (the rename does not touch the
  open inode on POSIX) until it reconnects;
- it is written with ``STORAGE_VERSION 'v1.4.0'`` so that BI drivers bundling DuckDB 1.4 can
  open it (files in DuckDB 2.x's own format cannot be read by 1.x; docs/stack.md);
- every table and column carries the comment of its dbt YAML (vigie/bi_docs.py), the text the
  PostgreSQL publication writes too (vigie/publish_postgres.py).

Tables keep their warehouse names (``marts.requests``...), plus ``main.snapshot_info`` (night,
as_of, published_at) and, once a night has recorded them, the ``history.*`` tables (final
indicators, exclusion reasons and commitment versions kept after their landed batches are
purged; vigie/history.py). Parquet copies of every mart (and ``history_<table>.parquet``) go to
``<snapshot stem>_parquet/``,
which is a symbolic link to a versioned directory; the link is replaced atomically, the
previous version is kept for readers in the middle of a listing and older ones are removed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from vigie.config import VigieConfig
from vigie.intervals import night_for_day
from vigie.sql_values import first_value

if TYPE_CHECKING:
    import duckdb  # imported lazily at run time

log = logging.getLogger(__name__)

BI_STORAGE_VERSION = "v1.4.0"
SNAPSHOT_SCHEMA = "marts"
HISTORY_SCHEMA = "history"
# DuckDB's buffer pool while the snapshot copies the marts. WHY: the copy only streams tables
# (create table as select *, copy to Parquet), yet with DuckDB's default (80 % of the host's
# memory) it held about 1.1 GB at scale 10 with three years of history, the night's peak on top
# of the local runner's resident set (2.46 GB, docs/performance.md "Peak memory"); at 512MB it
# holds about 0.6 GB for 0.7 s more. dbt's build has its own cap (VIGIE_DUCKDB_MEMORY_LIMIT).
SNAPSHOT_MEMORY_LIMIT = "512MB"


class PublishRefused(RuntimeError):
    """The night's checks failed, or the warehouse has no marts: nothing is published."""


def parquet_dir(snapshot: Path) -> Path:
    return snapshot.with_name(f"{snapshot.stem}_parquet")


def _checks_failed(cfg: VigieConfig, day: dt.date) -> bool:
    summary = cfg.path(cfg.outputs.gx_project) / "summaries" / f"{day.isoformat()}.json"
    if not summary.is_file():
        return False  # publish may run without checks (first setup, tests)
    return json.loads(summary.read_text(encoding="utf-8")).get("success") is False


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def publish_snapshot(cfg: VigieConfig, day: dt.date) -> Path:
    """Publish the marts of night ``day``; return the snapshot path."""

    if _checks_failed(cfg, day):
        raise PublishRefused(
            f"the checks of night {day} failed (see {cfg.path(cfg.outputs.gx_project)}/summaries): "
            "the previous snapshot stays in place"
        )
    warehouse = cfg.path(cfg.outputs.warehouse)
    if not warehouse.is_file():
        raise PublishRefused(f"warehouse {warehouse} does not exist: run the transform for {day} first")
    snapshot = cfg.path(cfg.outputs.bi_snapshot)
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    tmp = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.tmp")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    night = night_for_day(day, cfg.collectivite.timezone)
    published_at = dt.datetime.now(dt.UTC)

    version = f"{day.isoformat()}.{published_at:%Y%m%dT%H%M%S%f}"
    pq_root = parquet_dir(snapshot)
    pq_new = pq_root.with_name(f".{pq_root.name}.{version}")
    con = open_warehouse_for_reading(warehouse)
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"set memory_limit = '{SNAPSHOT_MEMORY_LIMIT}'")
        wh = first_value(con.execute("select current_database()"))
        con.execute(f"attach {_literal(str(tmp))} as snap (read_write, storage_version '{BI_STORAGE_VERSION}')")
        # One transaction for the whole snapshot: one commit instead of one per table and per
        # comment (each a WAL write and sync of the new file). Nobody sees the file before
        # os.replace below either way.
        con.execute("begin")
        names = [
            r[0]
            for r in con.execute(
                """
                select table_name from duckdb_tables() where database_name = ? and schema_name = ?
                union
                select view_name from duckdb_views() where database_name = ? and schema_name = ?
                  and not internal
                order by 1
                """,
                [wh, SNAPSHOT_SCHEMA, wh, SNAPSHOT_SCHEMA],
            ).fetchall()
        ]
        if not names:
            raise PublishRefused(f"no table in schema {SNAPSHOT_SCHEMA} of {warehouse}: run the transform for {day}")
        con.execute(f"create schema snap.{SNAPSHOT_SCHEMA}")
        pq_new.mkdir(parents=True)
        for name in names:
            q = f"{SNAPSHOT_SCHEMA}.{_quote(name)}"
            con.execute(f"create table snap.{q} as select * from {_quote(wh)}.{q}")
            target = pq_new / f"{name}.parquet"
            con.execute(f"copy (select * from snap.{q}) to {_literal(str(target))} (format parquet)")
        # The history schema (vigie/history.py record_history: final indicators, exclusion
        # reasons, commitment versions), when the warehouse has it: BI users and the year's
        # record for audits see the periods whose batches were purged too.
        history = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = ? and schema_name = ? order by 1",
            [wh, HISTORY_SCHEMA],
        ).fetchall()]
        if history:
            con.execute(f"create schema snap.{HISTORY_SCHEMA}")
        for table in history:
            q = f"{HISTORY_SCHEMA}.{_quote(table)}"
            con.execute(f"create table snap.{q} as select * from {_quote(wh)}.{q}")
            target = pq_new / f"{HISTORY_SCHEMA}_{table}.parquet"
            con.execute(f"copy (select * from snap.{q}) to {_literal(str(target))} (format parquet)")
            names = [*names, f"{HISTORY_SCHEMA}.{table}"]
        con.execute(
            "create table snap.main.snapshot_info (night date, as_of timestamptz, published_at timestamptz, "
            "tables varchar[])"
        )
        con.execute(
            "insert into snap.main.snapshot_info values (?, ?, ?, ?)",
            [day, night.as_of_utc, published_at, names],
        )
        con.execute(
            f"copy (select * from snap.main.snapshot_info) to {_literal(str(pq_new / 'snapshot_info.parquet'))} "
            "(format parquet)"
        )
        # Table and column comments from the dbt YAML (issue 14): BI tools show them.
        from vigie.bi_docs import comment_duckdb_tables

        comment_duckdb_tables(con, "snap")
        con.execute("commit")
        con.execute("checkpoint snap")
        con.execute("detach snap")
    except BaseException:
        import duckdb

        try:
            try:
                con.execute("rollback")
            except duckdb.Error:
                pass  # no transaction open (it failed before begin, or after commit)
            con.execute("detach database if exists snap")
        finally:
            con.close()
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
        shutil.rmtree(pq_new, ignore_errors=True)
        raise
    con.close()
    os.replace(tmp, snapshot)
    _swap_parquet(pq_root, pq_new)
    log.info("BI snapshot of night %s published: %s (%d tables) and %s", day, snapshot, len(names), pq_root)
    return snapshot


def published_night(cfg: VigieConfig) -> dt.date | None:
    """The night of the snapshot BI users see now (``main.snapshot_info``), or None."""
    import duckdb

    snapshot = cfg.path(cfg.outputs.bi_snapshot)
    if not snapshot.is_file():
        return None
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        row = con.execute("select max(night) from main.snapshot_info").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return row[0] if row else None


def open_warehouse_for_reading(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection that only reads the warehouse.

    read_only when possible; but DuckDB refuses a read_only connection in a process that
    already holds the same file read-write (dbt-duckdb keeps its instance alive after an
    in-process ``dbt build``: the local runner and the DAG tests run everything in one
    process). Then a plain connection to that same instance is used, and only read through.
    """
    import duckdb

    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.ConnectionException:
        return duckdb.connect(str(path))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _swap_parquet(link: Path, new_dir: Path) -> None:
    """Point ``link`` at ``new_dir`` atomically; keep the previous version, drop older ones."""
    previous = link.resolve() if link.is_symlink() else None
    if link.exists() and not link.is_symlink():
        # A real directory from an older layout: move it aside once.
        aside = link.with_name(f".{link.name}.legacy")
        shutil.rmtree(aside, ignore_errors=True)
        os.rename(link, aside)
        previous = aside
    tmp_link = link.with_name(f".{link.name}.link.{os.getpid()}")
    tmp_link.unlink(missing_ok=True)
    os.symlink(new_dir.name, tmp_link)  # relative: the BI folder can be moved or mounted
    os.replace(tmp_link, link)
    keep = {new_dir.name, previous.name if previous else None}
    for old in link.parent.glob(f".{link.name}.*"):
        if old.is_dir() and not old.is_symlink() and old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
