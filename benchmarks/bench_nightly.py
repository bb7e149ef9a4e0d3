"""What one ordinary night costs, and how that cost grows with the landed history (issue 16).

    python benchmarks/bench_nightly.py --days N --scale S [--backfill] [--keep DIR]

1. Demo sources at ``--scale`` for N days plus the measured night (``vigie/demo``).
2. With ``--backfill``: ``vigie run --backfill --from <first> --to <last>`` over the N nights,
   timed, landing included (the backfill time of those N days: every night landed, then the
   nights that can still alert built; vigie/runner.py ``backfill_nights``).
3. Without it: the N days are landed fast (every source extracted for every day through the
   connectors, as the extract tasks land them, without Airflow: ``connectors.extract``), then
   one ``vigie run`` of the last history night only (the warehouse then holds that night, as a
   production warehouse does the morning after; its time is printed, it is not a backfill).
4. The measured night, the day after the history, end to end as ``vigie run`` runs it (the
   production DAGs through ``dag.test``: extract ×3 with their listings of the sources, then
   ``vigie_night``: dbt build, checks, alerts, BI snapshot), Airflow's start-up printed apart.

Peak memory is the largest resident set of this process (dbt, DuckDB, GX and the tasks all
run in it) or of a child it started for the pipeline. The demo sources are generated in a child
process of their own, whose peak is printed apart: the generator holds a whole scale-10 history
in memory (about 2 GB at three years), which is not what the pipeline costs. The last line is exactly
``night cost: <seconds> s at <N> days of history (scale <S>)``.
Speed and memory targets live in benchmarks, never in timed tests (docs/performance.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks.bench_pipeline import _bench_config  # noqa: E402


def children_peak_mb() -> float:
    """Largest resident set (MB) of any child this process waited for."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def peak_mb(generator_mb: float) -> float:
    """Largest resident set (MB) of this process, or of a child larger than the demo
    generator (a child started by the pipeline)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = children_peak_mb()
    return max(own, children if children > generator_mb else 0.0)


def _generate(config: Path, first: dt.date, end: dt.date, scale: float) -> None:
    """The demo sources, in a child process (its memory is not the pipeline's)."""
    from vigie.config import load_config
    from vigie.demo import generate_demo_sources

    generate_demo_sources(load_config(config), first, end, scale=scale)


def generate(config: Path, first: dt.date, end: dt.date, scale: float) -> float:
    """Run ``_generate`` in a spawned child; return the children's peak (MB) after it."""
    import multiprocessing

    child = multiprocessing.get_context("spawn").Process(target=_generate, args=(config, first, end, scale))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"demo generation failed (exit code {child.exitcode})")
    return children_peak_mb()


def land_history(cfg, start: dt.date, end: dt.date) -> tuple[int, float]:
    """Extract every source for every day of [start, end] (the connectors' own landing)."""
    from connectors.extract import extract_source

    rows = 0
    t0 = time.perf_counter()
    for source in cfg.sources:
        day = start
        while day <= end:
            batch = extract_source(cfg, source.id, day)
            rows += sum(batch.row_counts.values())
            day += dt.timedelta(days=1)
    return rows, time.perf_counter() - t0


def run(config: Path, start: dt.date, end: dt.date, label: str, *, backfill: bool = False
        ) -> tuple[float, float]:
    """``vigie run [--backfill] --from start --to end``: (seconds without Airflow's start-up,
    start-up)."""
    from vigie.runner import backfill_nights, run_nights

    lines: list[str] = []
    cpu = time.process_time()
    report = (backfill_nights if backfill else run_nights)(config, start, end, echo=lines.append)
    cpu = time.process_time() - cpu
    if report.failed:
        for line in lines:
            print(f"  {line}")
        raise SystemExit(f"{label} failed: {report.failed}")
    if end == start:
        print(f"  {lines[-1]}")
    for line in lines if backfill else ():
        if line.startswith("backfill:"):
            print(f"  {line}")
    # On a shared machine wall time depends on the load; CPU time (every thread of this
    # process: dbt, DuckDB, GX, the tasks) much less.
    print(f"  {label}: CPU {cpu:.1f} s (load average {os.getloadavg()[0]:.1f})")
    return report.seconds - report.startup_seconds, report.startup_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--days", type=int, default=28, help="nights of history before the measured night")
    parser.add_argument("--scale", type=float, default=1.0, help="demo volumes multiplied by this")
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 27),
                        help="the measured night")
    parser.add_argument("--backfill", action="store_true",
                        help="build the history with `vigie run` over all N nights (timed)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this directory and keep it (warehouse, landing, dbt target)")
    args = parser.parse_args(argv)
    os.environ.setdefault("VIGIE_PSEUDONYMISATION_KEY", "bench-key-0123456789abcdef")

    from vigie.config import load_config

    first = args.end - dt.timedelta(days=args.days)
    last_history = args.end - dt.timedelta(days=1)
    if args.keep:
        if args.keep.exists():
            shutil.rmtree(args.keep)
        args.keep.mkdir(parents=True)
        workdir, cleanup = args.keep, None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="vigie-bench-nightly-")
        workdir = Path(cleanup.name)
    try:
        config = _bench_config(workdir)
        cfg = load_config(config)
        t0 = time.perf_counter()
        generator_mb = generate(config, first, args.end, args.scale)
        print(f"demo sources x{args.scale:g}, {first} .. {args.end}: {time.perf_counter() - t0:.1f} s "
              f"(child process, peak {generator_mb:,.0f} MB, not counted below)")
        if args.backfill:
            spent, startup_first = run(config, first, last_history, "backfill", backfill=True)
            print(f"backfill of {args.days} nights (vigie run --backfill --from {first} --to "
                  f"{last_history}, landing included): {spent:.1f} s ({spent / args.days:.2f} s a "
                  f"night, Airflow start-up apart)")
        else:
            rows, seconds = land_history(cfg, first, last_history)
            print(f"landed {args.days} days of history ({rows:,} rows) in {seconds:.1f} s")
            spent, startup_first = run(config, last_history, last_history, "last history night")
            print(f"backfill: not measured (--backfill); night {last_history} built in {spent:.1f} s "
                  "to warm the warehouse")

        spent, startup = run(config, args.end, args.end, "measured night")
        # Paid once per process (metadata migration, DAG folder parse): the first run pays it.
        print(f"Airflow start-up (apart, once per process): {startup_first + startup:.1f} s")
        print(f"peak memory: {peak_mb(generator_mb):,.0f} MB")
        print(f"night cost: {spent:.1f} s at {args.days} days of history (scale {args.scale:g})")
    finally:
        if cleanup is not None:
            cleanup.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
