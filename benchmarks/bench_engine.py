"""``make bench``: the commitment engine on 1,000,000 requests (issue 3 §7).

Three years of receipts (2024-01-01 .. 2026-12-31) for six services with split opening hours
(one with summer hours, one with Saturday mornings, closures), judged by seven commitments in
every unit but seconds (one id with two versions). The requests are synthetic rows of
``intermediate.int_requests_unioned`` written straight into a temp warehouse (deterministic
hashes of the row number, no landing); the calendar models are built first, then the engine
(``int_commitment_versions``, ``int_commitment_evaluations``) with ``dbt run --select``, timed.

Printed: evaluations per second (engine model execution time from dbt's run results, and the
wall clock of the dbt invocation including its start-up), the process's peak memory (DuckDB
runs in this process: ``ru_maxrss``, and RSS sampled with psutil during the engine build), and
the ratio against tests/engine/reference_rules.py, a straightforward per-row Python reading of
the same rules, timed in this process on a sample of the same rows and extrapolated to all
evaluations (the sample is also compared with the engine's answers).

    python benchmarks/bench_engine.py [--requests 1000000] [--sample 20000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR / "tests" / "engine"))

NIGHT = dt.date(2026, 12, 31)
FIRST_DAY = dt.date(2024, 1, 1)
SPLIT = ["08:30-12:00", "13:30-17:00"]
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday")
SERVICES = ("ACCUEIL", "ETAT_CIVIL", "URBANISME", "CCAS", "TECHNIQUE", "ENFANCE")
CHANNELS = ("email", "letter", "online", "counter")


def bench_config() -> dict[str, Any]:
    def hours(saturday: bool = False) -> dict[str, list[str]]:
        return {**{d: SPLIT for d in WEEK}, **({"saturday": ["09:00-12:00"]} if saturday else {})}

    services = [
        {"code": code, "name": code.title(), "opening_hours": [hours(saturday=code == "ACCUEIL")]}
        for code in SERVICES
    ]
    services[1]["opening_hours"] = [  # ETAT_CIVIL: summer hours every year
        v for year in (2024, 2025, 2026) for v in (
            {"valid_from": f"{year}-01-01", **hours()},
            {"valid_from": f"{year}-07-01", **{d: ["08:00-13:00"] for d in WEEK}},
            {"valid_from": f"{year}-09-01", **hours()},
        )
    ]
    services[3]["closures"] = [{"date": "2025-11-21", "reason": "Formation"}]

    def commitment(cid: str, channel: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
        return {"id": cid, "label": cid, "channel": channel, "threshold": 0.9,
                "target": {"value": value, "unit": unit}, **extra}

    return {
        "collectivite": {
            "name": "Bench", "timezone": "Europe/Paris",
            "closures": [{"date": "2025-05-30", "reason": "Pont"}, {"date": "2026-05-15", "reason": "Pont"}],
            "data_team": {"name": "Data", "email": "data@example.fr"},
        },
        "services": services,
        "commitments": [
            commitment("email_bd", "email", 5, "business_days", valid_to="2025-03-01"),
            commitment("email_bd", "email", 3, "business_days", valid_from="2025-03-01"),
            commitment("email_bh", "email", 4, "business_hours"),
            commitment("letter_bd", "letter", 15, "business_days"),
            commitment("letter_wk", "letter", 2, "weeks"),
            commitment("online_wd", "online", 3, "working_days"),
            commitment("online_bm", "online", 240, "business_minutes"),
            commitment("counter_cd", "counter", 2, "calendar_days"),
        ],
    }


def synthetic_requests_sql(n: int) -> str:
    """n requests from deterministic hashes of the row number (same rows on every run)."""
    seconds = (NIGHT - FIRST_DAY).days * 86_400 + 86_400 - 3_600
    services = "[" + ", ".join(f"'{s}'" for s in SERVICES) + "]"
    channels = "[" + ", ".join(f"'{c}'" for c in CHANNELS) + "]"
    return f"""
        create or replace table intermediate.int_requests_unioned as
        with base as (
            select
                i,
                timestamptz '{FIRST_DAY.isoformat()} 00:00:00+01' + to_seconds(cast(hash(i, 1) % {seconds} as bigint)) as received_at,
                cast(hash(i, 2) % 100 as bigint) as answer_draw,
                cast(hash(i, 3) % (12 * 86400) as bigint) as delay_s
            from range({n}) as t (i)
        )
        select
            'r' || i as request_id,
            'r' || i as request_ref,
            {channels}[1 + cast(hash(i, 4) % {len(CHANNELS)} as bigint)] as channel,
            {services}[1 + cast(hash(i, 5) % {len(SERVICES)} as bigint)] as service_code,
            received_at,
            case
                when answer_draw < 8 then null  -- never answered: pending or overdue
                when answer_draw < 9 then received_at - to_seconds(3600)  -- bad data: excluded
                when answer_draw < 50 then received_at + to_seconds(delay_s % 28800)  -- same day-ish
                else received_at + to_seconds(delay_s)
            end as first_response_at,
            cast(null as timestamptz) as acknowledged_at,
            cast(null as timestamptz) as resolved_at,
            false as is_excluded,
            cast(null as varchar) as exclusion_reason,
            cast(null as double) as wait_seconds,
            cast(null as varchar) as call_outcome,
            false as is_complaint
        from base
    """


class RssSampler:
    """Peak RSS of this process (DuckDB included) sampled every 20 ms while running."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def _node_seconds(result: Any, name: str) -> float:
    return next(r.execution_time for r in result.result if r.node.name == name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="requests timed per row")
    parser.add_argument("--workdir", type=Path, help="keep the warehouse here (default: a temp dir)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

    import duckdb
    import reference_rules as ref

    from connectors.landing_layout import ensure_empty_landing_tables
    from vigie.config import Outputs, parse_config
    from vigie.transform import _failures, _run_dbt, dbt_vars
    from vigie.warehouse_config import load_config_tables

    start, end = FIRST_DAY - dt.timedelta(days=31), NIGHT + dt.timedelta(days=400)
    with tempfile.TemporaryDirectory(prefix="vigie-bench-engine-") as tmp:
        root = args.workdir or Path(tmp)
        warehouse = root / "wh" / "vigie.duckdb"
        warehouse.parent.mkdir(parents=True)
        cfg = parse_config(bench_config()).model_copy(
            update={"outputs": Outputs(warehouse=str(warehouse), landing=str(root / "landing"))}
        )
        ensure_empty_landing_tables(root / "landing")
        vars_ = json.dumps(dbt_vars(cfg, NIGHT))
        t0 = time.perf_counter()
        con = duckdb.connect(str(warehouse))
        try:
            load_config_tables(con, cfg, start, end, run_day=NIGHT)
            con.execute("create schema if not exists intermediate")
            con.execute(synthetic_requests_sql(args.requests))
        finally:
            con.close()
        print(f"synthetic requests: {args.requests:,} written in {time.perf_counter() - t0:.1f} s "
              f"({FIRST_DAY} .. {NIGHT}, {len(SERVICES)} services, split hours)")

        t0 = time.perf_counter()
        cal = _run_dbt(["run", "--select", "int_service_days_classified", "int_service_opening_intervals",
                        "--vars", vars_], warehouse)
        assert cal.success, _failures(cal) or cal.exception
        print(f"calendar models: {time.perf_counter() - t0:.1f} s wall clock "
              f"(days {_node_seconds(cal, 'int_service_days_classified'):.2f} s, "
              f"intervals {_node_seconds(cal, 'int_service_opening_intervals'):.2f} s)")

        with RssSampler() as rss:
            t0 = time.perf_counter()
            built = _run_dbt(["run", "--select", "int_commitment_versions", "int_commitment_evaluations",
                              "--vars", vars_], warehouse)
            wall = time.perf_counter() - t0
        assert built.success, _failures(built) or built.exception
        engine_s = _node_seconds(built, "int_commitment_evaluations")

        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            evaluations = con.execute("select count(*) from intermediate.int_commitment_evaluations").fetchone()[0]
            threads = con.execute("select current_setting('threads')").fetchone()[0]  # same default as dbt's
            by_status = con.execute(
                "select status, count(*) from intermediate.int_commitment_evaluations group by 1 order by 1"
            ).fetchall()
            step = max(1, args.requests // args.sample)
            sample = con.execute(
                f"""select e.request_id, e.commitment_id, e.service_code, e.received_at, r.first_response_at,
                           e.evaluated_as_of, e.elapsed_value, e.deadline_at, e.status, e.counted_on
                    from intermediate.int_commitment_evaluations as e
                    inner join intermediate.int_requests_unioned as r using (request_id)
                    where cast(substr(e.request_id, 2) as bigint) % {step} = 0"""
            ).fetchall()
        finally:
            con.close()

        print(f"engine: {evaluations:,} evaluations of {args.requests:,} requests "
              f"({', '.join(f'{s} {n:,}' for s, n in by_status)})")
        print(f"engine model execution: {engine_s:.2f} s -> {evaluations / engine_s:,.0f} evaluations/s "
              f"(DuckDB threads: {threads}, CPU cores: {os.cpu_count()})")
        print(f"engine dbt invocation (versions + engine, incl. dbt start-up and parse): {wall:.2f} s "
              f"-> {evaluations / wall:,.0f} evaluations/s")
        print(f"peak RSS during the engine build (psutil, sampled every 20 ms): {rss.peak / 2**20:,.0f} MiB")
        print(f"peak RSS of the whole process (ru_maxrss): "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")

        # the same rules, one row at a time, on a sample of the same data
        calendar = ref.ReferenceCalendar(cfg, start, end)
        versions = cfg.all_commitments()
        codes = [s.code for s in cfg.services]
        t0 = time.perf_counter()
        answers = []
        for _request_id, cid, service, received, responded, as_of, *_ in sample:
            version = ref.version_in_force(versions, cid, service, codes, calendar.local_date(received))
            answers.append(ref.evaluate(calendar, version, service, received, responded, as_of))
        per_row_s = time.perf_counter() - t0
        disagree = sum(
            (a.elapsed_value, a.deadline_at, a.status, a.counted_on) != tuple(row[6:])
            for a, row in zip(answers, sample, strict=True)
        )
        per_row_total = per_row_s / len(sample) * evaluations
        print(f"per-row Python reference: {len(sample):,} evaluations (every {step}th request) in "
              f"{per_row_s:.2f} s -> {len(sample) / per_row_s:,.0f} evaluations/s; extrapolated to "
              f"{evaluations:,}: {per_row_total:,.0f} s")
        print(f"per-row reference disagrees with the engine on {disagree} of {len(sample):,} sampled evaluations")
        print(f"ratio: engine {per_row_total / engine_s:,.0f}x faster than per row "
              f"({per_row_total / wall:,.0f}x counting dbt's start-up)")
    return 0 if disagree == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
