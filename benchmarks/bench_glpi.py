"""What landing one GLPI night costs, and how that cost grows with the GLPI database's history.

    python benchmarks/bench_glpi.py --days N --scale S [--nights K] [--workdir DIR] [--reuse]

1. The demo's GLPI database alone (``vigie.demo.glpi.generate_glpi``, the same file
   ``vigie demo-data`` writes for the source ``glpi``) for the N days before the measured night
   and that night, at ``--scale``; ``--reuse`` keeps the database already in ``--workdir``.
2. The last K nights (default 3) landed through the connector, as the extract task lands them
   (``connectors.extract.extract_source``), each timed: wall and CPU time of this process.

The landing stays in ``--workdir`` (``var/landing/glpi``) to be compared with another run.
The last line is exactly ``glpi night: <seconds> s (CPU <seconds> s) at <N> days of history
(scale <S>)``, the median of the K nights. Targets live in docs/performance.md, never in tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks.bench_pipeline import _bench_config  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--days", type=int, default=28, help="days of history before the measured night")
    parser.add_argument("--scale", type=float, default=10.0, help="demo volumes multiplied by this")
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 27),
                        help="the last measured night")
    parser.add_argument("--nights", type=int, default=3, help="nights landed and timed, ending at --end")
    parser.add_argument("--workdir", type=Path, default=None, help="work here and keep it")
    parser.add_argument("--reuse", action="store_true", help="keep the GLPI database of --workdir")
    args = parser.parse_args(argv)
    os.environ.setdefault("VIGIE_PSEUDONYMISATION_KEY", "bench-key-0123456789abcdef")

    from connectors.extract import extract_source
    from vigie.config import load_config
    from vigie.demo import DEFAULT_SEED
    from vigie.demo.calendar_helpers import DemoCalendar
    from vigie.demo.glpi import generate_glpi

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vigie-bench-glpi-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = load_config(_bench_config(workdir))
    (src,) = cfg.sources_of("glpi_sql")
    first = args.end - dt.timedelta(days=args.days)
    assert src.path is not None
    if not (args.reuse and cfg.path(src.path).is_file()):
        t0 = time.perf_counter()
        cal = DemoCalendar.from_config(cfg, first, args.end)
        counts = generate_glpi(cfg, src, cal, first, args.end, args.scale, DEFAULT_SEED)
        size = cfg.path(src.path).stat().st_size / 1e6
        print(f"GLPI database x{args.scale:g}, {first} .. {args.end}: {counts['tickets']:,} tickets, "
              f"{sum(counts['rows'].values()):,} rows, {size:,.0f} MB in {time.perf_counter() - t0:.1f} s")
    walls: list[float] = []
    cpus: list[float] = []
    for i in range(args.nights - 1, -1, -1):
        day = args.end - dt.timedelta(days=i)
        wall, cpu = time.perf_counter(), time.process_time()
        batch = extract_source(cfg, src.id, day)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        walls.append(wall)
        cpus.append(cpu)
        print(f"  night {day}: {wall:.2f} s (CPU {cpu:.2f} s), {sum(batch.row_counts.values()):,} rows, "
              f"load average {os.getloadavg()[0]:.1f}")
    print(f"landing kept in {cfg.path(cfg.outputs.landing)}")
    print(f"glpi night: {statistics.median(walls):.2f} s (CPU {statistics.median(cpus):.2f} s) at "
          f"{args.days} days of history (scale {args.scale:g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
