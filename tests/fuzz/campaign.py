"""Run seeded variants of every file source through its connector and check what issue 17 asks.

For every variant: no exception other than the documented clean failure of an unusable source
(``SourceUnavailable`` and its subclasses: the night fails with a message saying what to fix);
every unit (line, message, row) the mutation did not touch has, under its own new position,
exactly its clean outcome (landed with the same values, or rejected with the same reason);
every reject has a reason and a position; no position has two outcomes.

``python -m tests.fuzz.campaign [--variants N] [--seed S] [--source NAME]`` (``make fuzz``)
prints, per source, the variants run, clean failures, crashes, lost units and the slowest
variant against the clean run, and lists every variant slower than 10x the clean run. Timings
are a benchmark: the CI test (``test_fuzz_connectors.py``) asserts behaviour only.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from connectors.extract import SourceUnavailable
from tests.fuzz.sources import SOURCES, FileSource, Outcome

# A unit of an export whose touched line opened a quoted cell may be read inside that cell:
# multi-line cells are legal in registers (Excel writes them), unlike in Asterisk's files.
QUOTE_SPANNING_SOURCES = {"register_csv", "survey_csv"}
SLOW_RATIO = 10.0


@dataclass
class SourceReport:
    """What the variants of one source did."""

    name: str
    variants: int = 0
    clean_failures: int = 0
    clean_failure_kinds: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    exempt: int = 0  # units read inside a quoted cell a mutation opened (registers only)
    clean_seconds: float = 0.0
    clean_bytes: int = 0
    slowest: tuple[float, str] = (0.0, "")
    slow: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.slowest[0] / self.clean_seconds if self.clean_seconds else 0.0


def _timed_read(source: FileSource, d: Path) -> tuple[Outcome, float]:
    started = time.perf_counter()
    out = source.read(d)
    return out, time.perf_counter() - started


def _clean(source: FileSource, work: Path) -> tuple[dict, Outcome, float]:
    from tests.fuzz.mutations import Mutated

    units = source.clean()
    d = work / "clean"
    d.mkdir()
    origins = source.write(d, Mutated(units, list(range(len(units))), ()))
    outcome, seconds = _timed_read(source, d)
    # Best of three: the ratio's denominator should not be a cold start.
    for _ in range(2):
        seconds = min(seconds, _timed_read(source, d)[1])
    return origins, outcome, seconds


def run_source(
    source: FileSource, variants: int, seed: int, work: Path, check_time: bool = False
) -> SourceReport:
    """``variants`` seeded variants of one source (seed ``seed``, variant i uses ``seed*1e6+i``)."""
    report = SourceReport(source.name)
    clean_origins, clean, report.clean_seconds = _clean(source, work)
    report.clean_bytes = _input_bytes(work / "clean")
    by_origin = {o: key for key, o in clean_origins.items()}
    units = source.clean()
    for i in range(variants):
        rnd = random.Random(seed * 1_000_000 + i)
        mutated = source.mutate(rnd, units)
        label = f"{source.name}#{i} seed={seed} {'+'.join(mutated.applied) or 'none'}"
        d = work / f"v{i}"
        d.mkdir()
        report.variants += 1
        try:
            origins = source.write(d, mutated)
            started = time.perf_counter()
            outcome = source.read(d)
            seconds = time.perf_counter() - started
        except SourceUnavailable:
            report.clean_failures += 1
            report.clean_failure_kinds["+".join(mutated.applied)] += 1
            continue
        except Exception:  # the campaign's subject: anything else is a crash
            report.crashes.append(f"{label}: {traceback.format_exc(limit=3)}")
            continue
        if seconds > SLOW_RATIO * report.clean_seconds:  # timed again: one slow tick is noise
            shutil.rmtree(d / "landing", ignore_errors=True)  # the same work: no saved state
            seconds = min(seconds, _timed_read(source, d)[1])
        if seconds > report.slowest[0]:
            report.slowest = (seconds, label)
        if check_time and seconds > SLOW_RATIO * report.clean_seconds:
            size = _input_bytes(d) / max(1, report.clean_bytes)
            report.slow.append(
                f"{label}: {seconds:.3f} s ({seconds / report.clean_seconds:.1f}x the clean run, "
                f"for {size:.1f}x its input bytes)"
            )
        report.lost.extend(_compare(source.name, label, origins, by_origin, clean, outcome, d, report))
    return report


def _compare(
    name: str,
    label: str,
    origins: dict,
    by_origin: dict,
    clean: Outcome,
    outcome: Outcome,
    d: Path,
    report: SourceReport,
) -> list[str]:
    """Units untouched by the mutation whose outcome differs from the clean run's."""
    problems = []
    inside = _lines_inside_quotes(d) if name in QUOTE_SPANNING_SOURCES else set()
    for key, origin in origins.items():
        if origin is None:
            continue
        if key[1] in inside:
            report.exempt += 1
            continue
        want = clean.get(by_origin[origin])
        got = outcome.get(key)
        if want != got:
            problems.append(
                f"{label}: {key} (clean {by_origin[origin]}) was {_short(want)}, now {_short(got)}"
            )
    return problems


def _input_bytes(d: Path) -> int:
    """Bytes of the variant's source files (saved state and landed output excluded)."""
    return sum(
        p.stat().st_size for p in d.rglob("*") if p.is_file() and "landing" not in p.parts
    )


def _lines_inside_quotes(d: Path) -> set[int]:
    """Lines of the export that start inside a quoted cell a previous line opened (csv reads
    them as that cell's text, a legal multi-line cell)."""
    (path,) = [p for p in d.iterdir() if p.suffix == ".csv"]
    inside: set[int] = set()
    depth = 0
    for n, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        if depth:
            inside.add(n)
        depth = (depth + line.count(b'"')) % 2
    return inside


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) < 160 else text[:157] + "..."


def run_campaign(
    variants: int, seed: int, names: list[str] | None = None, check_time: bool = True
) -> list[SourceReport]:
    reports = []
    for name in names or list(SOURCES):
        with tempfile.TemporaryDirectory(prefix=f"vigie-fuzz-{name}-") as tmp:
            reports.append(run_source(SOURCES[name], variants, seed, Path(tmp), check_time))
    return reports


def print_reports(reports: list[SourceReport]) -> None:
    print(f"{'source':<16}{'variants':>9}{'clean fail':>11}{'crashes':>8}{'lost':>6}"
          f"{'exempt':>7}{'clean s':>9}{'slowest s':>10}{'ratio':>7}")  # fmt: skip
    for r in reports:
        print(f"{r.name:<16}{r.variants:>9}{r.clean_failures:>11}{len(r.crashes):>8}"
              f"{len(r.lost):>6}{r.exempt:>7}{r.clean_seconds:>9.3f}{r.slowest[0]:>10.3f}"
              f"{r.ratio:>7.1f}")  # fmt: skip
    for r in reports:
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(r.clean_failure_kinds.items()))
        print(f"  {r.name}: slowest variant {r.slowest[1]}; clean failures: {kinds or 'none'}")
        for line in r.crashes + r.lost + r.slow:
            print(f"  ! {line}")
    total = sum(r.variants for r in reports)
    print(f"total: {total} variants, crashes {sum(len(r.crashes) for r in reports)}, lost "
          f"{sum(len(r.lost) for r in reports)}, over {SLOW_RATIO:.0f}x the clean run "
          f"{sum(len(r.slow) for r in reports)}, slowest ratio "
          f"{max((r.ratio for r in reports), default=0):.1f}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=300, help="variants per source")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--source", action="append", choices=sorted(SOURCES))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    reports = run_campaign(args.variants, args.seed, args.source)
    print_reports(reports)
    print(f"campaign: {time.perf_counter() - started:.0f} s")
    bad = any(r.crashes or r.lost for r in reports)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
