"""Where the BI snapshot's time goes, table by table, and what changes from one night to the next.

    python benchmarks/bench_snapshot.py tables DIR      (with PYTHONPATH=<code to measure>)
    python benchmarks/bench_snapshot.py changes DIR

DIR is a ``bench_nightly.py --keep`` directory (its ``bench.yml``, warehouse and BI folder).

``tables`` copies every table of the warehouse's ``marts`` and ``history`` schemas the way
``vigie/publish.py`` does, into a scratch file beside nothing of DIR's (a temporary directory):
per table, ``create table as`` in a ``STORAGE_VERSION 'v1.4.0'`` file, ``copy to`` Parquet from
the warehouse, and the cost of a content fingerprint (``sum(hash(t)), count(*)``, what a
"reuse unchanged tables" design would pay every night), wall and CPU seconds of this process;
then the comments, the commit and the checkpoint. Same connection settings as the publication
(UTC, ``SNAPSHOT_MEMORY_LIMIT``).

``changes`` compares the two Parquet versions the publication keeps (``.<stem>_parquet.*``: the
previous night's and the last one) file by file with ``EXCEPT ALL`` both ways: rows only in the
older, only in the newer; then the same without the columns that carry the night
(``evaluated_as_of``, ``recorded_on``, ``last_recorded_on``, ``is_in_force`` and
``snapshot_info``'s own), i.e. what would change if the rows did not carry the night.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

NIGHT_COLUMNS = ("evaluated_as_of", "recorded_on", "last_recorded_on", "is_in_force", "night", "as_of",
                 "published_at")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    w, c = time.perf_counter(), _cpu()
    fn()
    return time.perf_counter() - w, _cpu() - c


def _timed_sql(con: object, sql: str) -> tuple[float, float]:
    return _timed(lambda: con.execute(sql).fetchall())  # type: ignore[attr-defined]


def tables(bench: Path) -> None:
    import duckdb

    from vigie.bi_docs import comment_duckdb_tables
    from vigie.config import load_config
    from vigie.publish import BI_STORAGE_VERSION, SNAPSHOT_MEMORY_LIMIT

    cfg = load_config(bench / "bench.yml")
    warehouse = cfg.path(cfg.outputs.warehouse)
    with tempfile.TemporaryDirectory(prefix="bench_snapshot.") as tmp:
        out, pq = Path(tmp) / "snap.duckdb", Path(tmp) / "parquet"
        pq.mkdir()
        con = duckdb.connect(str(warehouse), read_only=True)
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"set memory_limit = '{SNAPSHOT_MEMORY_LIMIT}'")
        wh = con.execute("select current_database()").fetchone()[0]  # type: ignore[index]
        con.execute(f"attach '{out}' as snap (read_write, storage_version '{BI_STORAGE_VERSION}')")
        con.execute("begin")
        relations = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ? "
            "and schema_name in ('marts', 'history') order by 1 desc, 2",
            [wh],
        ).fetchall()
        for schema in sorted({s for s, _ in relations}):
            con.execute(f"create schema snap.{schema}")
        rows: list[tuple[str, int, tuple[float, float], tuple[float, float], tuple[float, float], int]] = []
        for schema, table in relations:
            q = f'{schema}."{table}"'
            target = pq / f"{schema}_{table}.parquet"
            n = con.execute(f"select count(*) from {wh}.{q}").fetchone()[0]  # type: ignore[index]
            fingerprint = _timed_sql(con, f"select sum(hash(t)), count(*) from {wh}.{q} as t")
            create = _timed_sql(con, f"create table snap.{q} as select * from {wh}.{q}")
            parquet = _timed_sql(con, f"copy (select * from {wh}.{q}) to '{target}' (format parquet)")
            rows.append((q, n, fingerprint, create, parquet, target.stat().st_size))
        comments = _timed(lambda: comment_duckdb_tables(con, "snap"))
        commit = _timed(lambda: con.execute("commit"))
        checkpoint = _timed(lambda: con.execute("checkpoint snap"))
        con.execute("detach snap")
        con.close()
        size = out.stat().st_size

    def f(x: tuple[float, float]) -> str:
        return f"{x[0]:6.3f} {x[1]:6.3f}"

    print(f"{'table':42s} {'rows':>8s}  {'create (wall cpu)':>17s}  {'Parquet':>13s}  {'fingerprint':>13s}  Parquet MB")
    for q, n, fp, cr, pa, mb in sorted(rows, key=lambda r: -(r[3][1] + r[4][1])):
        print(f"{q:42s} {n:8d}  {f(cr):>17s}  {f(pa):>13s}  {f(fp):>13s}  {mb / 1e6:6.1f}")
    total = [sum(r[3][k] for r in rows) for k in (0, 1)] + [sum(r[4][k] for r in rows) for k in (0, 1)] + [
        sum(r[2][k] for r in rows) for k in (0, 1)
    ]
    print(f"{'all tables':42s} {sum(r[1] for r in rows):8d}  {total[0]:6.3f} {total[1]:6.3f}  "
          f"{total[2]:6.3f} {total[3]:6.3f}  {total[4]:6.3f} {total[5]:6.3f}")
    print(f"comments {f(comments)}, commit {f(commit)}, checkpoint {f(checkpoint)}; "
          f"file {size / 1e6:.1f} MB; load average {os.getloadavg()[0]:.1f}")


def changes(bench: Path) -> int:
    import duckdb

    from vigie.config import load_config
    from vigie.publish import parquet_dir

    cfg = load_config(bench / "bench.yml")
    link = parquet_dir(cfg.path(cfg.outputs.bi_snapshot))
    versions = sorted(p for p in link.parent.glob(f".{link.name}.*") if p.is_dir())
    if len(versions) < 2:
        print(f"fewer than two Parquet versions beside {link}: publish two nights first", file=sys.stderr)
        return 2
    old, new = versions[-2], versions[-1]
    print(f"{old.name} -> {new.name}")
    con = duckdb.connect()
    print(f"{'file':38s} {'rows old':>9s} {'rows new':>9s} {'only old':>9s} {'only new':>9s}   "
          f"without the night's columns: only old / only new")
    for path in sorted(new.glob("*.parquet")):
        before = old / path.name
        if not before.exists():
            print(f"{path.name:38s} new file")
            continue
        cols = [r[0] for r in con.execute(f"describe select * from '{path}'").fetchall()]
        stamp = [c for c in cols if c in NIGHT_COLUMNS]
        keep = ", ".join(f'"{c}"' for c in cols if c not in stamp) or "1"

        def diff(a: Path, b: Path, select: str) -> int:
            return con.execute(  # type: ignore[index]
                f"select count(*) from (select {select} from '{a}' except all select {select} from '{b}')"
            ).fetchone()[0]

        n_old = con.execute(f"select count(*) from '{before}'").fetchone()[0]  # type: ignore[index]
        n_new = con.execute(f"select count(*) from '{path}'").fetchone()[0]  # type: ignore[index]
        print(f"{path.name:38s} {n_old:9d} {n_new:9d} {diff(before, path, '*'):9d} {diff(path, before, '*'):9d}   "
              f"{diff(before, path, keep)} / {diff(path, before, keep)}"
              + (f"  ({', '.join(stamp)})" if stamp else ""))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("tables", "changes"))
    parser.add_argument("dir", type=Path)
    args = parser.parse_args()
    if args.what == "tables":
        tables(args.dir)
        return 0
    return changes(args.dir)


if __name__ == "__main__":
    sys.exit(main())
