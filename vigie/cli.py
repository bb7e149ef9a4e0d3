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
CHECK_LABELS = {"ok": "ok", "warning": "WARNING", "problem": "PROBLEM"}


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from None


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of nights >= 1, got {value!r}")
    return n


def _today(cfg_tz: str) -> dt.date:
    import zoneinfo

    override = os.environ.get("VIGIE_TODAY")  # tests and reproducible demos
    if override:
        return dt.date.fromisoformat(override)
    return dt.datetime.now(zoneinfo.ZoneInfo(cfg_tz)).date()


def cmd_check_config(args: argparse.Namespace) -> int:
    """Valid file (exit 2 if not), then this host's paths, key and outputs, then, if asked,
    every connection: exit 1 listing each problem with the key to fix, 0 when none."""
    from vigie.config_checks import check_host
    from vigie.connection_checks import check_connections, connection_targets

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(
        f"{args.config}: valid — {cfg.collectivite.name}: {len(cfg.services)} services, "
        f"{len(cfg.all_commitments())} commitments, {len(cfg.sources)} sources"
    )
    checks = []
    if args.skip_paths:
        print("  source paths, pseudonymisation key and outputs not checked (--skip-paths)")
    else:
        checks += check_host(cfg)
    if args.connections:
        checks += check_connections(cfg)
    elif targets := connection_targets(cfg):
        print(f"  {len(targets)} connection(s) not tried ({', '.join(targets)}): add --connections")
    for c in checks:
        print(f"  {CHECK_LABELS[c.status]:<8} {c.where}: {c.message}",
              file=sys.stderr if c.status == "problem" else sys.stdout)
    problems = sum(c.status == "problem" for c in checks)
    warnings = sum(c.status == "warning" for c in checks)
    if problems:
        if any("demo_sources" in c.message for c in checks if c.status == "problem"):
            print("  these are the demo's sources: run `vigie demo-data` for the demo, or copy "
                  "the configuration and point each source at your systems (README.md, "
                  "\"From demo to your own collectivité\")", file=sys.stderr)
        print(f"{args.config}: {problems} problem(s), {warnings} warning(s): fix each PROBLEM "
              "line above (key: what was found, what to do)", file=sys.stderr)
        return 1
    print(f"{args.config}: ok" + (f" ({warnings} warning(s))" if warnings else ""))
    return 0


def cmd_generate_key(args: argparse.Namespace) -> int:
    """A new pseudonymisation key into a file (0600, never over an existing one) or stdout."""
    from vigie.secrets import new_key, write_new_key

    if args.file == "-":
        print(new_key())
        return 0
    path = Path(args.file)
    try:
        write_new_key(path)
    except FileExistsError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"wrote a new pseudonymisation key to {path} (mode 0600): back it up; set "
          f"pseudonymisation.key_file to this path")
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


def cmd_run(args: argparse.Namespace) -> int:
    from vigie.runner import backfill_nights, run_nights
    from vigie.secrets import PseudonymisationKeyMissing

    try:
        load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if getattr(args, "send_old_alerts", False):
        # Backfills stay quiet for service heads unless asked (alerts.max_age_days).
        os.environ["VIGIE_SEND_OLD_ALERTS"] = "1"
    try:
        runner = backfill_nights if getattr(args, "backfill", False) else run_nights
        report = runner(args.config, args.date_from, args.date_to)
    except PseudonymisationKeyMissing as exc:  # checked before the first night: one line
        print(f"vigie run: {exc}", file=sys.stderr)
        return 2
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
    from vigie.demo.key import ensure_demo_key
    from vigie.secrets import PseudonymisationKeyMissing

    cfg = load_config(args.config)
    try:
        print(ensure_demo_key(cfg))  # so that a later `vigie run` hashes as the demo did
    except PseudonymisationKeyMissing as exc:
        print(f"vigie demo: {exc}", file=sys.stderr)
        return 2
    start, end = default_demo_range(cfg, _today(cfg.collectivite.timezone))
    if args.days is not None:
        start = end - dt.timedelta(days=args.days - 1)
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


def cmd_confirm_day(args: argparse.Namespace) -> int:
    """The data team says a source's night is complete as landed (a quiet day, or a loss it
    accepts): the breaches held back for it are sent, once, by the next run of the night."""
    from vigie.alerts.data_team import confirm_day

    try:
        cfg = load_config(args.config)
        marker = confirm_day(cfg, args.source, args.day, by=args.by, note=args.note)
    except (ConfigError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"{args.source} {args.day.isoformat()} confirmed ({marker}).")
    print(f"What was held back for it is sent by the next night, or now: "
          f"vigie run --config {args.config} --from <last night> --to <last night>")
    return 0


def cmd_declare_down(args: argparse.Namespace) -> int:
    """The data team says a source was down on a night although its extract ran: the day is
    incomplete without statistics (the periods it feeds hold their rates back)."""
    from vigie.alerts.data_team import declare_down

    try:
        cfg = load_config(args.config)
        marker = declare_down(cfg, args.source, args.day, by=args.by, note=args.note)
    except (ConfigError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"{args.source} {args.day.isoformat()} declared down ({marker}); the next run of a night "
          f"holds back the rates it feeds. Undo: vigie confirm-day --config {args.config} "
          f"--source {args.source} --day {args.day.isoformat()}")
    return 0


def cmd_results(args: argparse.Namespace) -> int:
    """The period's results for citizens (index.html, affiche.pdf, resultats.csv) and, for a
    year, the year's record for audits (rapport.pdf, rapport.html)."""
    from vigie.results.audit_report import write_audit_report
    from vigie.results.figures import ResultsUnavailable, parse_period
    from vigie.results.page import write_results

    try:
        cfg = load_config(args.config)
        period = parse_period(args.period)
    except (ConfigError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    out = Path(args.out)
    try:
        written = write_results(cfg, period, out)
        if period.kind == "year":
            written.append(write_audit_report(cfg, period.start.year, out))
    except ResultsUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    for path in written:
        print(path)
    if not (cfg.publication.structures and cfg.publication.indicators):
        print("no resultats.csv: set publication.structures and publication.indicators "
              "(docs/configuration.md, 'publication')", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigie", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check-config", help="validate a configuration file and this host's "
                       "source paths, key and outputs")
    c.add_argument("config", nargs="?", default=DEFAULT_CONFIG)
    c.add_argument("--skip-paths", action="store_true",
                   help="do not check source paths, the key and outputs (checking a site's file "
                        "on a machine that is not its production host)")
    c.add_argument("--connections", action="store_true",
                   help="also connect to every source database, IMAP account, Wazo API and "
                        "the SMTP server (nothing is written or sent)")
    c.set_defaults(func=cmd_check_config)

    k = sub.add_parser("generate-key", help="write a new pseudonymisation key (mode 0600)")
    k.add_argument("file", help="file to create (never replaced), or - to print the key")
    k.set_defaults(func=cmd_generate_key)

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
    r.add_argument("--backfill", action="store_true",
                   help="land every night first, then build only the nights that can still "
                        "alert (same tables and alert log as night by night, much faster)")
    r.set_defaults(func=cmd_run)

    k = sub.add_parser("confirm-day", help="confirm a source's night as complete (what landed is all there is)")
    k.add_argument("--config", default=DEFAULT_CONFIG)
    k.add_argument("--source", required=True, help="the source id (sources[].id)")
    k.add_argument("--day", type=_date, required=True, help="the night's day, YYYY-MM-DD")
    k.add_argument("--by", default=None, help="who confirms (default: $USER)")
    k.add_argument("--note", default=None, help="why, kept in the marker file")
    k.set_defaults(func=cmd_confirm_day)

    w = sub.add_parser("declare-down", help="declare a source down on a night although its extract ran")
    w.add_argument("--config", default=DEFAULT_CONFIG)
    w.add_argument("--source", required=True, help="the source id (sources[].id)")
    w.add_argument("--day", type=_date, required=True, help="the night's day, YYYY-MM-DD")
    w.add_argument("--by", default=None, help="who declares (default: $USER)")
    w.add_argument("--note", default=None, help="what happened, shown to the data team")
    w.set_defaults(func=cmd_declare_down)

    m = sub.add_parser("demo", help="demo-data, then run the last 28 nights, then say where to look")
    m.add_argument("--config", default=DEFAULT_CONFIG)
    m.add_argument("--scale", type=float, default=1.0)
    m.add_argument("--seed", type=int, default=20261128)
    m.add_argument("--days", type=_positive, default=None,
                   help="only the last N nights (default: 28, stretched to cross a holiday)")
    m.set_defaults(func=cmd_demo)

    res = sub.add_parser("results", help="publish a year's or a month's results: public page, "
                         "A4 poster, open-data CSV (and a year's audit report)")
    res.add_argument("--config", default=DEFAULT_CONFIG)
    res.add_argument("--period", required=True, help="a year (2026) or a month (2026-10)")
    res.add_argument("--out", required=True, help="directory to write into (created)")
    res.set_defaults(func=cmd_results)

    from vigie.trigger import add_parser as add_trigger_parser

    add_trigger_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "config", None):
        args.config = str(Path(args.config))
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
