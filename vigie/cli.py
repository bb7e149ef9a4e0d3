"""The ``vigie`` command: demo data, local runs of the DAG chain, configuration checks."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from vigie.config import ConfigError, load_config

DEFAULT_CONFIG = "config/vigie.yml"
DEMO_KEY = "demo-key-not-a-secret-change-me"


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from None


def _today(cfg_tz: str) -> dt.date:
    import zoneinfo

    override = os.environ.get("VIGIE_TODAY")  # tests and reproducible demos
    if override:
        return dt.date.fromisoformat(override)
    return dt.datetime.now(zoneinfo.ZoneInfo(cfg_tz)).date()


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(
        f"{args.config}: ok — {cfg.collectivite.name}: {len(cfg.services)} services, "
        f"{len(cfg.all_commitments())} commitments, {len(cfg.sources)} sources"
    )
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from vigie.demo import default_demo_range, generate_demo_sources

    cfg = load_config(args.config)
    start, end = default_demo_range(cfg, _today(cfg.collectivite.timezone))
    start = args.date_from or start
    end = args.date_to or end
    t0 = time.monotonic()
    summary = generate_demo_sources(cfg, start, end, scale=args.scale, seed=args.seed)
    print(f"demo sources for {start} .. {end} (scale {args.scale}) in {time.monotonic() - t0:.1f} s")
    for key, value in summary.items():
        print(f"  {key}: {value}")
    return 0


def _ensure_demo_key() -> None:
    """The demo's pseudonymisation key; real sites set the Airflow connection instead."""
    if "VIGIE_PSEUDONYMISATION_KEY" not in os.environ and not any(
        k.startswith("AIRFLOW_CONN_VIGIE_PSEUDONYMISATION") for k in os.environ
    ):
        os.environ["VIGIE_PSEUDONYMISATION_KEY"] = DEMO_KEY


def cmd_run(args: argparse.Namespace) -> int:
    from vigie.runner import run_nights

    try:
        load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if getattr(args, "send_old_alerts", False):
        # Backfills stay quiet for service heads unless asked (alerts.max_age_days).
        os.environ["VIGIE_SEND_OLD_ALERTS"] = "1"
    report = run_nights(args.config, args.date_from, args.date_to)
    print(
        f"{len(report.nights)} nights in {report.seconds:.1f} s "
        f"(Airflow start-up {report.startup_seconds:.1f} s, paid once)"
    )
    if report.failed:
        for day, what in report.failed.items():
            print(f"  FAILED {day}: {what}", file=sys.stderr)
        return 1
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """demo-data + run over the demo range + where to look."""
    from vigie.demo import default_demo_range

    _ensure_demo_key()
    cfg = load_config(args.config)
    start, end = default_demo_range(cfg, _today(cfg.collectivite.timezone))
    args.date_from, args.date_to = start, end
    t0 = time.monotonic()
    if cmd_demo_data(args) != 0:
        return 1
    code = cmd_run(args)
    print()
    print(f"Vigie demo: {start} .. {end}, done in {time.monotonic() - t0:.0f} s")
    print(f"  indicator tables : {cfg.path(cfg.outputs.warehouse)} (schema marts)")
    print(f"  BI snapshot      : {cfg.path(cfg.outputs.bi_snapshot)} (open read-only)")
    print(f"  Data Docs        : {cfg.path(cfg.outputs.data_docs)}/index.html")
    print(f"  alert digests    : {cfg.path(cfg.outputs.outbox)}/ (.eml files)")
    print(f"  landing batches  : {cfg.path(cfg.outputs.landing)}/")
    return code


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigie", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check-config", help="validate a configuration file")
    c.add_argument("config", nargs="?", default=DEFAULT_CONFIG)
    c.set_defaults(func=cmd_check_config)

    d = sub.add_parser("demo-data", help="write the demo collectivité's sources")
    d.add_argument("--config", default=DEFAULT_CONFIG)
    d.add_argument("--from", dest="date_from", type=_date, default=None)
    d.add_argument("--to", dest="date_to", type=_date, default=None)
    d.add_argument("--scale", type=float, default=1.0, help="multiply volumes (benchmarks)")
    d.add_argument("--seed", type=int, default=20261128)
    d.set_defaults(func=cmd_demo_data)

    r = sub.add_parser("run", help="run the nightly DAGs for each night of a range")
    r.add_argument("--config", required=True)
    r.add_argument("--from", dest="date_from", type=_date, required=True)
    r.add_argument("--to", dest="date_to", type=_date, required=True)
    r.add_argument("--send-old-alerts", action="store_true",
                   help="also send alerts about periods older than alerts.max_age_days")
    r.set_defaults(func=cmd_run)

    m = sub.add_parser("demo", help="demo-data, then run the last 28 nights, then say where to look")
    m.add_argument("--config", default=DEFAULT_CONFIG)
    m.add_argument("--scale", type=float, default=1.0)
    m.add_argument("--seed", type=int, default=20261128)
    m.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "config", None):
        args.config = str(Path(args.config))
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
