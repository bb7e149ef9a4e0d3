"""``make bench``: the pipeline's throughput on a scaled demo collectivité.

Speed and memory targets live here, never in timed tests. This first benchmark measures the
nightly path without Airflow (its start-up is measured by ``vigie run`` itself): demo sources at
``--scale`` (default 10× the demo volumes), every source extracted for every night (rows per
second), then one ``dbt build`` of the last night over all landed batches, and the process's
peak memory. The engine, telephony and email benchmarks of issues 3–5 add their own sections.

    python benchmarks/bench_pipeline.py [--scale 10] [--days 28]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import tempfile
import time
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bench_config(workdir: Path) -> Path:
    data = yaml.safe_load((PROJECT_DIR / "config" / "vigie.yml").read_text(encoding="utf-8"))
    for source in data["sources"]:
        source["path"] = source["path"].replace("../var/", "var/")
    data["outputs"] = {
        k: (v.replace("../var/", "var/") if isinstance(v, str) else v)
        for k, v in data["outputs"].items()
    }
    path = workdir / "bench.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 27))
    args = parser.parse_args(argv)
    os.environ.setdefault("VIGIE_PSEUDONYMISATION_KEY", "bench-key-0123456789abcdef")

    from connectors.extract import extract_source
    from vigie.config import load_config
    from vigie.demo import generate_demo_sources
    from vigie.transform import run_transform

    start = args.end - dt.timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory(prefix="vigie-bench-") as tmp:
        cfg = load_config(_bench_config(Path(tmp)))
        t0 = time.perf_counter()
        generate_demo_sources(cfg, start, args.end, scale=args.scale)
        print(f"demo sources x{args.scale:g}, {args.days} days: {time.perf_counter() - t0:.1f} s")

        rows: dict[str, int] = {}
        seconds: dict[str, float] = {}
        for source in cfg.sources:
            t0 = time.perf_counter()
            day = start
            while day <= args.end:
                batch = extract_source(cfg, source.id, day)
                rows[source.id] = rows.get(source.id, 0) + sum(batch.row_counts.values())
                day += dt.timedelta(days=1)
            seconds[source.id] = time.perf_counter() - t0
        for sid in rows:
            print(
                f"extract {sid:<14} {rows[sid]:>9,} rows in {seconds[sid]:6.1f} s "
                f"= {rows[sid] / seconds[sid]:>9,.0f} rows/s (including landing)"
            )
        t0 = time.perf_counter()
        run_transform(cfg, args.end)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_transform(cfg, args.end)
        again = time.perf_counter() - t0
        print(f"dbt build of night {args.end}: {first:.1f} s (first, with parse), {again:.1f} s (again)")
        print(f"peak memory of this process: {_peak_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
