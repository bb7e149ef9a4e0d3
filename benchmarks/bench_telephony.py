"""``make bench``: telephony at scale (issue 4 point 8).

Generates a ``queue_log`` of ``--queue-lines`` lines (default 5,000,000, rotated into two files)
and an 18-column ``Master.csv`` of ``--cdr-rows`` records (default 2,000,000) over ``--days``
days, then:

1. the floor: a bare DuckDB ``read_csv`` count of the same files (no parsing of fields);
2. a second reference, DuckDB landing the whole files itself in one statement per file: every
   field split, callers keyed with HMAC-SHA256 computed in SQL (``sha256`` over the padded key),
   one zstd Parquet file per local day (``PARTITION_BY``). No line numbers, no rejects, no
   checks: the least a set-based ingest of every line costs on this machine;
3. one night's extraction (read, pseudonymise, land) of each source, cold (no saved state) and
   warm (saved positions: the night reads only its own bytes): the nightly cost, compared with
   the floor (the aim: within 4 times);
4. the backfill: every night of the period extracted in turn, with saved positions (the first
   night reads the files whole and learns them; each later night reads about its own day);
5. modelling: ``dbt build`` of the last night over every landed batch (the call model and the
   phone marts over all calls).

It prints lines per second, the ratio of each ingest to the floor of the same file, and the
process's peak memory. Targets live here, never in timed tests.

    python benchmarks/bench_telephony.py [--queue-lines 5000000] [--cdr-rows 2000000] [--days 29]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
QUEUES = ["etat-civil", "urbanisme", "ccas", "accueil"]
LINES_PER_CALL = 4  # ENTERQUEUE + (CONNECT + COMPLETE*) or (RINGNOANSWER + ABANDON) ...


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _epochs(n: int, first_day: dt.date, days: int, rng: np.random.Generator) -> np.ndarray:
    """n sorted call epochs on working hours (08:00-18:00 UTC) of the period."""
    day0 = int(
        dt.datetime(first_day.year, first_day.month, first_day.day, tzinfo=dt.UTC).timestamp()
    )
    day = rng.integers(0, days, n)
    sec = rng.integers(8 * 3600, 18 * 3600, n)
    return np.sort(day0 + day * 86400 + sec)


def write_queue_log(directory: Path, lines: int, first_day: dt.date, days: int) -> list[Path]:
    rng = np.random.default_rng(4)
    calls = lines // LINES_PER_CALL
    epochs = _epochs(calls, first_day, days, rng)
    kind = rng.integers(0, 10, calls)  # 0-6 answered, 7-8 abandoned, 9 timeout
    wait = rng.integers(1, 120, calls)
    queue = rng.integers(0, len(QUEUES), calls)
    caller = rng.integers(600000000, 699999999, calls)
    out: list[str] = []
    for i in range(calls):
        e, w, q, cid = int(epochs[i]), int(wait[i]), QUEUES[queue[i]], f"{epochs[i]}.{i}"
        out.append(f"{e}|{cid}|{q}|NONE|ENTERQUEUE||0{caller[i]}||1")
        k = kind[i]
        if k <= 6:
            out.append(f"{e + w}|{cid}|{q}|SIP/10{i % 40:02d}|CONNECT|{w}|{cid}.9|2")
            out.append(f"{e + w + 1}|{cid}|{q}|SIP/10{i % 40:02d}|RINGNOANSWER|2000")
            out.append(f"{e + w + 180}|{cid}|{q}|SIP/10{i % 40:02d}|COMPLETECALLER|{w}|180|1")
        elif k <= 8:
            out.append(f"{e + 1}|{cid}|{q}|SIP/1001|RINGNOANSWER|15000")
            out.append(f"{e + 2}|{cid}|{q}|SIP/1002|RINGNOANSWER|15000")
            out.append(f"{e + w}|{cid}|{q}|NONE|ABANDON|1|1|{w}")
        else:
            out.append(f"{e + 1}|{cid}|{q}|SIP/1001|RINGNOANSWER|15000")
            out.append(f"{e + 2}|{cid}|{q}|SIP/1002|RINGNOANSWER|15000")
            out.append(f"{e + 300}|{cid}|{q}|NONE|EXITWITHTIMEOUT|1|1|300")
    half = len(out) // 2
    directory.mkdir(parents=True, exist_ok=True)
    older, live = directory / "queue_log.1", directory / "queue_log"
    older.write_text("\n".join(out[:half]) + "\n", encoding="utf-8")
    live.write_text("\n".join(out[half:]) + "\n", encoding="utf-8")
    return [older, live]


def write_master_csv(path: Path, rows: int, first_day: dt.date, days: int) -> None:
    rng = np.random.default_rng(5)
    epochs = _epochs(rows, first_day, days, rng)
    talk = rng.integers(0, 600, rows)
    ring = rng.integers(0, 40, rows)
    caller = rng.integers(600000000, 699999999, rows)
    out: list[str] = []
    fmt = "%Y-%m-%d %H:%M:%S"
    for i in range(rows):
        s = dt.datetime.fromtimestamp(int(epochs[i]), dt.UTC)
        t = int(talk[i])
        a = s + dt.timedelta(seconds=int(ring[i]))
        end = a + dt.timedelta(seconds=t)
        answered = t > 0
        out.append(
            f'"","0{caller[i]}","3001","from-external","""Appelant"" <0{caller[i]}>",'
            f'"SIP/trunk-{i:08x}","SIP/10{i % 40:02d}-{i + 1:08x}","Dial","SIP/10{i % 40:02d},30",'
            f'"{s.strftime(fmt)}","{a.strftime(fmt) if answered else ""}","{end.strftime(fmt)}",'
            f'{int(ring[i]) + t},{t},"{"ANSWERED" if answered else "NO ANSWER"}","DOCUMENTATION",'
            f'"{epochs[i]}.{i}",""'
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def floor_seconds(paths: list[Path], delim: str) -> tuple[float, int]:
    """Bare DuckDB read_csv count of the files (the floor Vigie's ingest is compared with)."""
    import duckdb

    con = duckdb.connect()
    files = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
    t0 = time.perf_counter()
    if delim == "|":  # queue_log: up to 10 pipe-separated fields, shorter lines padded
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(10)) + "}"
        sql = (
            f"select count(*) from read_csv({files}, delim='|', quote='', header=false, "
            f"null_padding=true, ignore_errors=true, auto_detect=false, columns={columns})"
        )
    else:  # Master.csv: quoted CSV, 18 columns
        sql = f"select count(*) from read_csv({files}, header=false, all_varchar=true, ignore_errors=true)"
    n = con.execute(sql).fetchone()[0]
    seconds = time.perf_counter() - t0
    con.close()
    return seconds, int(n)


def duckdb_landing_seconds(paths: list[Path], kind: str, out: Path, key: bytes) -> float:
    """DuckDB lands the whole files itself (reference 2 of the module docstring)."""
    import duckdb

    padded = key.ljust(64, b"\0") if len(key) <= 64 else key  # keys here are < 64 bytes
    ipad = bytes(b ^ 0x36 for b in padded).hex()
    opad = bytes(b ^ 0x5C for b in padded).hex()

    def hmac_sql(value: str) -> str:
        inner = f"sha256(unhex('{ipad}') || encode('phone:' || {value}))"
        return f"sha256(unhex('{opad}') || unhex({inner}))"

    files = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
    con = duckdb.connect()
    t0 = time.perf_counter()
    if kind == "queue_log":
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(10)) + "}"
        src = (
            f"read_csv({files}, delim='|', quote='', header=false, null_padding=true, "
            f"ignore_errors=true, auto_detect=false, columns={columns})"
        )
        sql = f"""
            copy (
                select to_timestamp(try_cast(c0 as bigint)) as event_at, c1 as callid,
                    c2 as queue_name, c3 as agent, c4 as event, c5 as data1,
                    case when c4 = 'ENTERQUEUE' then null else c6 end as data2, c7 as data3,
                    case when c4 = 'ENTERQUEUE' then {hmac_sql('c6')} end as caller_key,
                    cast(timezone('Europe/Paris', to_timestamp(try_cast(c0 as bigint))) as date) as day
                from {src}
            ) to '{out}' (format parquet, compression zstd, partition_by (day))"""
    else:
        src = f"read_csv({files}, header=false, all_varchar=true, ignore_errors=true)"
        sql = f"""
            copy (
                select column00 as accountcode, {hmac_sql('column01')} as src_key,
                    {hmac_sql('column02')} as dst_key, column03 as dcontext,
                    column05 as channel, column06 as dstchannel, column07 as lastapp,
                    cast(column09 as timestamp) as start_at, cast(column10 as timestamp) as answer_at,
                    cast(column11 as timestamp) as end_at, cast(column12 as bigint) as duration,
                    cast(column13 as bigint) as billsec, column14 as disposition,
                    column16 as uniqueid, cast(cast(column09 as timestamp) as date) as day
                from {src}
            ) to '{out}' (format parquet, compression zstd, partition_by (day))"""
    con.execute(sql)
    seconds = time.perf_counter() - t0
    con.close()
    return seconds


def _config(workdir: Path) -> Path:
    data = yaml.safe_load((PROJECT_DIR / "config" / "vigie.yml").read_text(encoding="utf-8"))
    data["sources"] = [
        {
            "id": "pbx_queue_log",
            "type": "asterisk_queue_log",
            "path": "src/queue_log*",
            "queues": {
                q: code
                for q, code in zip(
                    QUEUES, ["ETAT_CIVIL", "URBANISME", "CCAS", "ACCUEIL"], strict=True
                )
            },
        },
        {
            "id": "pbx_cdr",
            "type": "asterisk_cdr_csv",
            "path": "src/Master.csv",
            "timezone": "UTC",
            "columns": 18,
        },
    ]
    data["outputs"] = {
        "warehouse": "var/warehouse/vigie.duckdb",
        "landing": "var/landing",
        "bi_snapshot": "var/bi/vigie_bi.duckdb",
        "data_docs": "var/data_docs",
        "gx_project": "var/gx",
        "outbox": "var/outbox",
    }
    path = workdir / "bench.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queue-lines", type=int, default=5_000_000)
    parser.add_argument("--cdr-rows", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=29)
    parser.add_argument("--first-day", type=dt.date.fromisoformat, default=dt.date(2026, 10, 1))
    parser.add_argument("--skip-model", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("VIGIE_PSEUDONYMISATION_KEY", "bench-key-0123456789abcdef")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DBT_LOG_LEVEL", "warn")  # as vigie run: dbt's per-node lines off

    from connectors.extract import extract_source
    from connectors.landing_layout import FILE_POSITIONS_FILE, landing_root, source_state_path
    from vigie.config import load_config
    from vigie.transform import run_transform

    last = args.first_day + dt.timedelta(days=args.days - 1)
    mid = args.first_day + dt.timedelta(days=args.days // 2)
    with tempfile.TemporaryDirectory(prefix="vigie-bench-tel-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        qfiles = write_queue_log(work / "src", args.queue_lines, args.first_day, args.days)
        cdr = work / "src" / "Master.csv"
        write_master_csv(cdr, args.cdr_rows, args.first_day, args.days)
        qbytes = sum(p.stat().st_size for p in qfiles)
        print(
            f"generated {args.queue_lines:,} queue_log lines ({qbytes / 1e6:.0f} MB, 2 files) and "
            f"{args.cdr_rows:,} CDR rows ({cdr.stat().st_size / 1e6:.0f} MB) over {args.days} days "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        q_floor, q_count = floor_seconds(qfiles, "|")
        c_floor, c_count = floor_seconds([cdr], ",")
        print(
            f"floor: DuckDB read_csv count queue_log {q_count:,} lines in {q_floor:.2f} s; "
            f"Master.csv {c_count:,} rows in {c_floor:.2f} s"
        )

        key = os.environ["VIGIE_PSEUDONYMISATION_KEY"].encode()
        q_duck = duckdb_landing_seconds(qfiles, "queue_log", work / "duck_q", key)
        c_duck = duckdb_landing_seconds([cdr], "cdr", work / "duck_c", key)
        print(
            f"reference: DuckDB lands the whole files itself (split, HMAC in SQL, Parquet per "
            f"day, no line numbers nor rejects): queue_log {q_duck:.2f} s ({q_duck / q_floor:.1f}x "
            f"floor), Master.csv {c_duck:.2f} s ({c_duck / c_floor:.1f}x floor)"
        )

        cfg = load_config(_config(work))
        # Warm-up (imports, first Arrow kernels) on a night before the period, then forget the
        # positions it saved so that "cold" really starts from byte 0.
        for sid in ("pbx_queue_log", "pbx_cdr"):
            extract_source(cfg, sid, args.first_day - dt.timedelta(days=1))
        for sid in ("pbx_queue_log", "pbx_cdr"):
            source_state_path(landing_root(cfg), sid, FILE_POSITIONS_FILE).unlink(missing_ok=True)
        for sid, floor, n_lines in (
            ("pbx_queue_log", q_floor, q_count),
            ("pbx_cdr", c_floor, c_count),
        ):
            t0 = time.perf_counter()
            batch = extract_source(cfg, sid, mid)
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            extract_source(cfg, sid, mid)
            warm = time.perf_counter() - t0
            print(
                f"one night ({mid}) {sid:<13} {sum(batch.row_counts.values()):>8,} rows: cold "
                f"{cold:5.2f} s = {n_lines / cold:>11,.0f} file lines/s ({cold / floor:4.1f}x floor), "
                f"warm {warm:5.2f} s ({warm / floor:4.1f}x floor)"
            )
        for sid, floor, n_lines, duck in (
            ("pbx_queue_log", q_floor, q_count, q_duck),
            ("pbx_cdr", c_floor, c_count, c_duck),
        ):
            state = source_state_path(landing_root(cfg), sid, FILE_POSITIONS_FILE)
            state.unlink(missing_ok=True)  # the backfill starts knowing nothing of the files
            t0 = time.perf_counter()
            rows = 0
            day = args.first_day
            while day <= last:
                rows += sum(extract_source(cfg, sid, day).row_counts.values())
                day += dt.timedelta(days=1)
            total = time.perf_counter() - t0
            print(
                f"backfill {args.days} nights {sid:<13} {rows:>9,} rows in {total:6.1f} s = "
                f"{n_lines / total:>9,.0f} file lines/s ({total / floor:5.1f}x floor, "
                f"{total / duck:.1f}x DuckDB's own landing, {total / args.days:.2f} s a night)"
            )
        if not args.skip_model:
            t0 = time.perf_counter()
            run_transform(cfg, last)
            print(
                f"dbt build of night {last} over every batch (call model, phone marts): "
                f"{time.perf_counter() - t0:.1f} s"
            )
            import duckdb

            con = duckdb.connect(str(cfg.path(cfg.outputs.warehouse)), read_only=True)
            try:
                calls = con.execute(
                    "select count(*) from marts.requests where channel = 'phone'"
                ).fetchone()[0]
                rows = con.execute("select count(*) from marts.phone_indicators").fetchone()[0]
            finally:
                con.close()
            print(f"modelled: {calls:,} phone requests, {rows:,} phone_indicators rows")
        print(f"peak memory of this process: {_peak_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
