"""Same landing, same sequence of nights, two versions of the code: are the warehouses equal?

    python benchmarks/compare_nights.py prepare DIR [--days N] [--scale S]
    python benchmarks/compare_nights.py run DIR OUT    (with PYTHONPATH=<code to test>)
    python benchmarks/compare_nights.py compare OUT_A OUT_B
    python benchmarks/compare_nights.py nights DIR DAY [DAY ...]   (time nights in place)

``prepare`` generates the demo sources and lands N days (the last one is 2026-11-27), except
one source's batch of day N-8, kept aside (a late batch). ``run`` copies DIR to OUT and builds,
with the code on PYTHONPATH (``vigie.transform.run_transform``: configuration, dbt build,
history, purge), the sequence below, exporting every warehouse relation (every schema but the
incremental models' bookkeeping, ``incremental``) after each numbered step to OUT/snapshots:

  1. nights N-12 .. N-5 in order (the first builds from nothing);
  2. night N-7 again (a replay of an old night, later batches landed);
  3. nights N-6, N-5 (incremental again after the replay);
  4. the late batch of day N-8 lands, then night N-4;
  5. night N-5's batches land again (re-landed), then night N-3;
  6. nights N-2 .. N.

``compare`` checks every relation of every snapshot with ``EXCEPT ALL`` both ways and prints
the relations that differ (exit status 1 when any does). ``nights`` builds the given nights
in DIR (e.g. a ``bench_nightly.py --keep`` directory) with the code on PYTHONPATH and prints
each one's time, dbt's model and test time, and its slowest nodes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

END = dt.date(2026, 11, 27)
# The incremental models (macros/night_increment.sql): `nights` always prints their time.
WATCHED = ("int_phone_calls_assembled", "int_tickets_responded", "int_phone_queue_visits",
           "int_source_day_row_counts")
SKIP_SCHEMAS = {"incremental", "information_schema", "pg_catalog"}


def _config(workdir: Path) -> Path:
    import yaml

    code = Path(__import__("vigie").__file__).resolve().parent.parent
    data = yaml.safe_load((code / "config" / "vigie.yml").read_text(encoding="utf-8"))
    for source in data["sources"]:
        source["path"] = source["path"].replace("../var/", "var/")
    data["outputs"] = {
        k: (v.replace("../var/", "var/") if isinstance(v, str) else v) for k, v in data["outputs"].items()
    }
    path = workdir / "bench.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def prepare(workdir: Path, days: int, scale: float) -> None:
    from connectors.extract import extract_source
    from vigie.config import load_config
    from vigie.demo import generate_demo_sources

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    cfg = load_config(_config(workdir))
    first = END - dt.timedelta(days=days - 1)
    generate_demo_sources(cfg, first, END, scale=scale)
    for source in cfg.sources:
        day = first
        while day <= END:
            extract_source(cfg, source.id, day)
            day += dt.timedelta(days=1)
    late = END - dt.timedelta(days=8)
    source = cfg.sources[0].id
    batch = _landing(cfg) / source / f"day={late.isoformat()}"
    shutil.move(str(batch), str(workdir / "late_batch"))
    (workdir / "late_batch.txt").write_text(f"{source}\n{late.isoformat()}\n", encoding="utf-8")


def _landing(cfg) -> Path:
    from connectors.landing_layout import landing_root

    return Path(landing_root(cfg))


def _snapshot(cfg, out: Path, name: str) -> None:
    import duckdb

    from vigie.warehouse_config import warehouse_path

    target = out / "snapshots" / name
    target.mkdir(parents=True)
    con = duckdb.connect(str(warehouse_path(cfg)), read_only=True)
    try:
        rels = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        for schema, table in rels:
            if schema in SKIP_SCHEMAS or table.startswith("_"):
                continue
            con.execute(f"copy (select * from \"{schema}\".\"{table}\") to "
                        f"'{target / f'{schema}.{table}.parquet'}' (format parquet)")
    finally:
        con.close()


def run(workdir: Path, out: Path) -> None:
    from connectors.extract import extract_source
    from vigie.config import load_config
    from vigie.transform import run_transform

    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(workdir, out, symlinks=True)
    os.chdir(out)
    cfg = load_config(out / "bench.yml")
    n = END

    def night(offset: int) -> None:
        day = n - dt.timedelta(days=offset)
        t0 = time.perf_counter()
        run_transform(cfg, day)
        print(f"  night {day}: {time.perf_counter() - t0:.1f} s", flush=True)

    for offset in range(12, 4, -1):
        night(offset)
    _snapshot(cfg, out, "1_nights")
    night(7)
    _snapshot(cfg, out, "2_replay")
    night(6)
    night(5)
    _snapshot(cfg, out, "3_after_replay")
    source, late = (out / "late_batch.txt").read_text(encoding="utf-8").split()
    shutil.move(str(out / "late_batch"), str(_landing(cfg) / source / f"day={late}"))
    night(4)
    _snapshot(cfg, out, "4_late_batch")
    relanded = n - dt.timedelta(days=5)
    for src in cfg.sources:
        extract_source(cfg, src.id, relanded)
    night(3)
    _snapshot(cfg, out, "5_relanded")
    for offset in (2, 1, 0):
        night(offset)
    _snapshot(cfg, out, "6_nights")


def compare(a: Path, b: Path) -> int:
    import duckdb

    con = duckdb.connect()
    differ = 0
    checked = 0
    steps_a = {p.name for p in (a / "snapshots").iterdir()} if (a / "snapshots").is_dir() else set()
    steps_b = {p.name for p in (b / "snapshots").iterdir()} if (b / "snapshots").is_dir() else set()
    # A step or a relation on one side only is a difference: a run that stopped half-way must
    # not pass for identical (it once printed "0 relation snapshots compared, 0 differ", exit 0).
    for missing in sorted(steps_a ^ steps_b):
        print(f"step {missing} only in {'A' if missing in steps_a else 'B'}")
        differ += 1
    for step in sorted(steps_a & steps_b):
        snap, other = a / "snapshots" / step, b / "snapshots" / step
        names_a = {p.name for p in snap.glob("*.parquet")}
        names_b = {p.name for p in other.glob("*.parquet")}
        for missing in sorted(names_a ^ names_b):
            print(f"{snap.name}: {missing} only in {'A' if missing in names_a else 'B'}")
            differ += 1
        for name in sorted(names_a & names_b):
            x, y = snap / name, other / name
            cols_x = [r[0] for r in con.execute(f"describe select * from '{x}'").fetchall()]
            cols_y = [r[0] for r in con.execute(f"describe select * from '{y}'").fetchall()]
            if cols_x != cols_y:
                print(f"{snap.name}: {name} columns differ: {cols_x} / {cols_y}")
                differ += 1
                continue
            # landed.<table>.landed_file is the file's absolute path: compare it below the landing
            strip = ("* replace (regexp_replace(landed_file, '^.*/var/landing/', '') as landed_file)"
                     if "landed_file" in cols_x else "*")
            sel_x, sel_y = f"select {strip} from '{x}'", f"select {strip} from '{y}'"
            only_x = con.execute(f"select count(*) from ({sel_x} except all {sel_y})").fetchone()[0]
            only_y = con.execute(f"select count(*) from ({sel_y} except all {sel_x})").fetchone()[0]
            rows = con.execute(f"select count(*) from '{x}'").fetchone()[0]
            checked += 1
            if only_x or only_y:
                differ += 1
                print(f"{snap.name}: {name} differs ({rows} rows; {only_x} only in A, {only_y} only in B)")
    print(f"{checked} relation snapshots compared, {differ} differ")
    if not checked:
        print("nothing was compared: did both runs finish?")
        return 1
    return 1 if differ else 0


def nights(workdir: Path, days: list[dt.date]) -> None:
    import json

    from vigie.config import load_config
    from vigie.transform import run_transform
    from vigie.warehouse_config import warehouse_path

    os.chdir(workdir)
    cfg = load_config(workdir / "bench.yml")
    for day in days:
        t0 = time.perf_counter()
        cpu = time.process_time()
        run_transform(cfg, day)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu
        results = json.loads((warehouse_path(cfg).parent / "dbt" / "target" / "run_results.json").read_text())
        nodes = [(r["execution_time"], r["unique_id"]) for r in results["results"]]
        models = sum(t for t, u in nodes if u.startswith("model."))
        tests = sum(t for t, u in nodes if u.startswith("test."))
        print(f"night {day}: {wall:.1f} s wall, {cpu:.1f} s CPU; dbt elapsed "
              f"{results['elapsed_time']:.1f} s, models {models:.2f} s, tests {tests:.2f} s "
              f"(load {os.getloadavg()[0]:.1f})", flush=True)
        watched = {f"model.vigie.{m}" for m in WATCHED}
        for t, u in sorted(nodes, reverse=True):
            if u in watched or (t, u) in sorted(nodes, reverse=True)[:6]:
                print(f"    {t:6.2f} s  {u}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("dir", type=Path)
    p.add_argument("--days", type=int, default=20)
    p.add_argument("--scale", type=float, default=1.0)
    r = sub.add_parser("run")
    r.add_argument("dir", type=Path)
    r.add_argument("out", type=Path)
    t = sub.add_parser("nights")
    t.add_argument("dir", type=Path)
    t.add_argument("days", type=dt.date.fromisoformat, nargs="+")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("VIGIE_PSEUDONYMISATION_KEY", "bench-key-0123456789abcdef")
    if args.cmd == "prepare":
        prepare(args.dir.resolve(), args.days, args.scale)
        return 0
    if args.cmd == "run":
        run(args.dir.resolve(), args.out.resolve())
        return 0
    if args.cmd == "nights":
        nights(args.dir.resolve(), args.days)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
