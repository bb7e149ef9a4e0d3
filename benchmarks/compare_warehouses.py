"""Are two warehouses the same, relation by relation? (issue 16: a speed-up changes no result)

    python benchmarks/compare_warehouses.py A.duckdb B.duckdb [--ignore SCHEMA.TABLE.COLUMN ...]
    python benchmarks/compare_warehouses.py --sequence DIR [--days N]

The first form compares every table and view of every schema of A and B (the BI snapshot
too: it is a DuckDB file) with ``EXCEPT ALL`` both ways: same relations, same columns, types
and comments, same rows with their multiplicity. It prints one line per relation that differs and
exits 1 if any does.

The second form builds, with the code on ``PYTHONPATH``, the sequence of nights a change must
leave identical, in ``DIR`` (emptied first): demo sources and N days of landing (as
``bench_nightly.py`` lands them), then through the production DAGs (``vigie run``) the nights
20 to 25 November 2026, a replay of the 22nd, the 26th landed, the 26th landed again and
rebuilt, then the 27th. It keeps copies of the warehouse and the BI snapshot after the 25th,
after the replay and at the end (``DIR/keep/<step>/``). Run it once per code into the same
``DIR`` (the landed file paths are part of ``landed.*``), moving ``DIR/keep`` aside in
between, then compare the copies with the first form.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

# Bookkeeping of the landing copy: when each landed file was last modified (the sequence lands
# files again: new modification times).
DEFAULT_IGNORED = ("landed._files.last_modified",)


def relations(con, alias: str) -> dict[tuple[str, str], list[tuple[str, str, str | None]]]:
    """Columns of every relation: (name, type, comment); the table's comment comes first."""
    out: dict[tuple[str, str], list[tuple[str, str, str | None]]] = {}
    for schema, table, comment in con.execute(
        "select schema_name, table_name, comment from duckdb_tables() where database_name = ? "
        "union all select schema_name, view_name, comment from duckdb_views() "
        "where database_name = ? and not internal",
        [alias, alias],
    ).fetchall():
        out[(schema, table)] = [("(table comment)", "", comment)]
    rows = con.execute(
        "select schema_name, table_name, column_name, data_type, comment from duckdb_columns() "
        "where database_name = ? order by schema_name, table_name, column_index",
        [alias],
    ).fetchall()
    for schema, table, column, dtype, comment in rows:
        out.setdefault((schema, table), []).append((column, dtype, comment))
    return out


def compare(a: Path, b: Path, ignored: tuple[str, ...] = DEFAULT_IGNORED) -> list[str]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"attach '{a}' as a (read_only)")
    con.execute(f"attach '{b}' as b (read_only)")
    ra, rb = relations(con, "a"), relations(con, "b")
    problems = []
    for key in sorted(set(ra) | set(rb)):
        name = ".".join(key)
        if key not in ra or key not in rb:
            problems.append(f"{name}: only in {'A' if key in ra else 'B'}")
            continue
        if ra[key] != rb[key]:
            problems.append(f"{name}: columns differ {ra[key]} / {rb[key]}")
            continue
        cols = ", ".join(
            '"' + c.replace('"', '""') + '"' for c, t, _ in ra[key] if t and f"{name}.{c}" not in ignored
        )
        q = f'"{key[0]}"."{key[1]}"'
        only_a = con.execute(f"select count(*) from (select {cols} from a.{q} except all select {cols} from b.{q})").fetchone()[0]
        only_b = con.execute(f"select count(*) from (select {cols} from b.{q} except all select {cols} from a.{q})").fetchone()[0]
        count = con.execute(f"select count(*) from a.{q}").fetchone()[0]
        if only_a or only_b:
            problems.append(f"{name}: {only_a} rows only in A, {only_b} only in B ({count} rows in A)")
    print(f"{len(ra)} relations compared ({a} / {b}): {len(problems)} differ")
    return problems


def sequence(workdir: Path, days: int) -> None:
    os.environ.setdefault("VIGIE_PSEUDONYMISATION_KEY", "bench-key-0123456789abcdef")
    from benchmarks.bench_nightly import land_history
    from benchmarks.bench_pipeline import _bench_config
    from vigie.config import load_config
    from vigie.demo import generate_demo_sources
    from vigie.runner import run_nights

    end = dt.date(2026, 11, 27)
    first = end - dt.timedelta(days=days)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    os.chdir(workdir)
    config = _bench_config(workdir)
    cfg = load_config(config)
    generate_demo_sources(cfg, first, end, scale=1.0)
    land_history(cfg, first, end - dt.timedelta(days=2))  # up to the 25th; the DAGs land the rest

    def keep(step: str) -> None:
        out = workdir / "keep" / step
        out.mkdir(parents=True)
        for path in (cfg.path(cfg.outputs.warehouse), cfg.path(cfg.outputs.bi_snapshot)):
            shutil.copy2(path, out / path.name)
        print(f"kept {step}")

    def nights(start: dt.date, stop: dt.date) -> None:
        report = run_nights(config, start, stop, echo=print)
        if report.failed:
            raise SystemExit(f"nights failed: {report.failed}")

    day = dt.date
    nights(day(2026, 11, 20), day(2026, 11, 25))
    keep("after-25")
    nights(day(2026, 11, 22), day(2026, 11, 22))
    keep("replay-22")
    nights(day(2026, 11, 26), day(2026, 11, 26))
    nights(day(2026, 11, 26), day(2026, 11, 26))  # landed again (the extract DAGs), rebuilt
    nights(day(2026, 11, 27), day(2026, 11, 27))
    keep("end")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--ignore", nargs="*", default=list(DEFAULT_IGNORED))
    parser.add_argument("--sequence", type=Path)
    parser.add_argument("--days", type=int, default=28)
    args = parser.parse_args(argv)
    if args.sequence:
        sequence(args.sequence.resolve(), args.days)
        return 0
    if len(args.files) != 2:
        parser.error("two DuckDB files, or --sequence DIR")
    problems = compare(args.files[0], args.files[1], tuple(args.ignore))
    for line in problems:
        print(f"  {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
