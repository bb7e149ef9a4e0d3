"""Write the configuration into the warehouse's ``config`` schema before every dbt build.

dbt reads the collectivité's calendar, services, commitments and source mappings as sources
(dbt_project/models/staging/config/_config__sources.yml) rather than as seeds or vars because
they change with the YAML file and with the night being run, and one Python function that
rewrites them from the validated ``VigieConfig`` is the only place that turns YAML into rows.
Public holidays come from the pinned ``holidays`` package (French names), not from a list of
ours, so Alsace-Moselle and the overseas departments are right without maintenance.

Every table is replaced inside one transaction: a failed load leaves the previous night's
configuration in place, never a half-written one.

Why the calendar range is derived from the landing rather than from the run day alone: the
day indices of the calendar are running counts from ``calendar_start``; only their differences
matter, but a range that depends on the landing state only (and on the day) keeps every table
byte-identical between two runs of the same night on the same data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zoneinfo
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import holidays

from connectors.landing_layout import landed_batch_dirs, landing_root
from vigie.config import (
    SUBDIVISION_ALIASES,
    WEEKDAYS,
    AsteriskCdrCsvSource,
    AsteriskCdrSqlSource,
    AsteriskQueueLogSource,
    AsteriskQueueLogSqlSource,
    Closure,
    GlpiSqlSource,
    ImapSource,
    MaildirSource,
    MboxSource,
    VigieConfig,
    WazoCdrSource,
)
from vigie.intervals import night_for_day

# (table, DDL column list). Types are explicit so that an empty table still has the types
# the dbt models and contracts expect.
CONFIG_TABLES: dict[str, str] = {
    "settings": "collectivite_name varchar, timezone varchar, run_day date, as_of timestamptz, "
    "calendar_start date, calendar_end date",
    "services": "service_code varchar, service_name varchar, head_name varchar, head_email varchar",
    "opening_hours": "service_code varchar, valid_from date, valid_to date, isodow integer, "
    "range_start_minute integer, range_end_minute integer",
    "closures": "service_code varchar, closed_on date, reason varchar",
    "public_holidays": "holiday_on date, holiday_name varchar, is_worked boolean",
    "commitments": "commitment_id varchar, label varchar, channel varchar, metric varchar, "
    "target_value double, target_unit varchar, threshold double, min_volume integer, "
    "valid_from date, valid_to date, reference varchar, request_kind varchar",
    # valid_from: the version of the commitment the row scopes (versions share an id)
    "commitment_services": "commitment_id varchar, service_code varchar, valid_from date",
    "phone_queues": "source_id varchar, queue_name varchar, service_code varchar, "
    "short_abandon_seconds integer, orphan_close_seconds integer",
    # CDR-only call model: dcontext -> service, and the regex of agent dstchannels
    "phone_cdr_contexts": "source_id varchar, dcontext varchar, service_code varchar, "
    "agent_channel_pattern varchar",
    "mailboxes": "source_id varchar, mailbox varchar, service_code varchar",
    "ticket_request_types": "source_id varchar, requesttypes_id integer, channel varchar",
    "ticket_groups": "source_id varchar, groups_id integer, service_code varchar",
    "ticket_categories": "source_id varchar, itilcategories_id integer, service_code varchar",
    "ticket_complaint_categories": "source_id varchar, itilcategories_id integer",
    "quality": "volume_ratio double, baseline_weeks integer, min_baseline_days integer",
    # every enabled source: its type and the name people know it by (sources[].name, else id)
    "sources": "source_id varchar, source_type varchar, source_name varchar",
    # alerts.* keys the dbt alert rules read (intermediate/quality, intermediate/alerts)
    # age_counted_from: the day alerts.max_age_days counts back from (later of the night and
    # the newest landed night: a backfill of old nights stays quiet; DECISIONLOG Part 6, "Age of alerts")
    "alert_rules": "completeness_alpha double, breach_grains varchar[], max_age_days integer, "
    "age_counted_from date",
}


def public_holidays(cfg: VigieConfig, years: Iterable[int]) -> list[tuple[dt.date, str, bool]]:
    """(date, French name, is_worked) for the collectivité's subdivision over ``years``."""
    subdiv = cfg.collectivite.holidays.subdivision
    subdiv = SUBDIVISION_ALIASES.get(subdiv, subdiv) if subdiv else None
    calendar = holidays.France(subdiv=subdiv, years=sorted(set(years)), language="fr")
    worked = set(cfg.collectivite.holidays.worked)
    return [(day, name, day in worked) for day, name in sorted(calendar.items())]


def _closure_rows(code: str | None, closures: Sequence[Closure]) -> list[tuple[Any, ...]]:
    rows: dict[dt.date, tuple[Any, ...]] = {}
    for closure in closures:
        for day in closure.days():
            rows.setdefault(day, (code, day, closure.reason))  # first declaration wins
    return list(rows.values())


def config_rows(
    cfg: VigieConfig,
    calendar_start: dt.date,
    calendar_end: dt.date,
    run_day: dt.date | None = None,
    alerts_age_from: dt.date | None = None,
) -> dict[str, list[tuple[Any, ...]]]:
    """Rows of every config table (pure function of its arguments: repeatable loads).

    ``alerts_age_from`` (default: the night) is the day ``alerts.max_age_days`` counts back from."""
    tz = cfg.collectivite.timezone
    day = run_day or calendar_start
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in CONFIG_TABLES}
    rows["settings"].append(
        (cfg.collectivite.name, tz, day, night_for_day(day, tz).as_of_utc, calendar_start, calendar_end)
    )
    for s in cfg.services:
        rows["services"].append(
            (s.code, s.name, s.head.name if s.head else None, s.head.email if s.head else None)
        )
        versions = list(s.opening_hours)
        for i, version in enumerate(versions):
            valid_to = versions[i + 1].valid_from if i + 1 < len(versions) else None
            for weekday in range(len(WEEKDAYS)):
                for start, end in version.ranges_for(weekday):
                    rows["opening_hours"].append(
                        (s.code, version.valid_from, valid_to, weekday + 1, start, end)
                    )
        rows["closures"].extend(_closure_rows(s.code, s.closures))
    rows["closures"].extend(_closure_rows(None, cfg.collectivite.closures))
    rows["public_holidays"] = list(
        public_holidays(cfg, range(calendar_start.year, calendar_end.year + 1))
    )
    all_codes = [s.code for s in cfg.services]
    for c in cfg.all_commitments():
        rows["commitments"].append(
            (
                c.id, c.label, c.channel, c.metric,
                c.target.value if c.target else None, c.target.unit if c.target else None,
                c.threshold, c.min_volume, c.valid_from, c.valid_to, c.reference,
                c.request_kind,  # null: every request of the channel
            )
        )
        codes = all_codes if c.services == "all" else list(dict.fromkeys(c.services))
        rows["commitment_services"].extend((c.id, code, c.valid_from) for code in codes)
    for src in cfg.sources:
        if not src.enabled:
            continue
        rows["sources"].append((src.id, src.type, src.display_name))
        if isinstance(src, AsteriskQueueLogSource | AsteriskQueueLogSqlSource):
            rows["phone_queues"].extend(
                (src.id, q, code, src.short_abandon_seconds, src.orphan_close_seconds)
                for q, code in src.queues.items()
            )
        elif isinstance(src, AsteriskCdrCsvSource | AsteriskCdrSqlSource | WazoCdrSource):
            rows["phone_cdr_contexts"].extend(
                (src.id, ctx, code, src.agent_channel_pattern)
                for ctx, code in sorted(src.services_by_dcontext.items())
            )
        elif isinstance(src, MaildirSource | ImapSource | MboxSource):
            rows["mailboxes"].extend((src.id, m.name, m.service) for m in src.mailboxes)
        elif isinstance(src, GlpiSqlSource):
            rows["ticket_request_types"].extend(
                (src.id, rt, ch) for rt, ch in sorted(src.request_types.items())
            )
            rows["ticket_groups"].extend((src.id, g, code) for g, code in sorted(src.groups.items()))
            rows["ticket_categories"].extend(
                (src.id, c, code) for c, code in sorted(src.categories.items())
            )
            rows["ticket_complaint_categories"].extend(
                (src.id, c) for c in sorted(set(src.complaint_categories))
            )
    q = cfg.quality
    rows["quality"].append((q.volume_ratio, q.baseline_weeks, q.min_baseline_days))
    a = cfg.alerts
    rows["alert_rules"].append(
        (a.completeness_alpha, list(a.breach_grains), a.max_age_days, max(day, alerts_age_from or day))
    )
    return rows


def load_config_tables(
    con: duckdb.DuckDBPyConnection,
    cfg: VigieConfig,
    calendar_start: dt.date,
    calendar_end: dt.date,
    run_day: dt.date | None = None,
    alerts_age_from: dt.date | None = None,
) -> None:
    """(Re)create every ``config.*`` table from ``cfg`` in one transaction.

    ``run_day`` (the night's day) fills config.settings; it defaults to ``calendar_start`` so
    the agreed four-argument call still works for calendar-only uses (tests, BI setup).
    """
    if calendar_end < calendar_start:
        raise ValueError(f"calendar_end {calendar_end} is before calendar_start {calendar_start}")
    rows = config_rows(cfg, calendar_start, calendar_end, run_day, alerts_age_from)
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists config")
        for table, ddl in CONFIG_TABLES.items():
            con.execute(f"create or replace table config.{table} ({ddl})")
            if rows[table]:
                marks = ", ".join("?" for _ in rows[table][0])
                con.executemany(f"insert into config.{table} values ({marks})", rows[table])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


CALENDAR_MARGIN_BEFORE = dt.timedelta(days=31)
CALENDAR_MARGIN_AFTER = dt.timedelta(days=400)
# Landed tables whose rows can be much older than their batch's night, and the instant that
# starts their clock: a GLPI ticket modified tonight may be years old; a courrier register lands
# letters received up to lookback_days (400) before the night; the first read of an IMAP folder
# (or an mbox) lands its whole history in the first night's batch.
OLD_ROW_INSTANTS: dict[str, str] = {
    "glpi_tickets": 'least("date", date_creation)',
    "register_requests": "received_at",
    "email_messages": "received_at",
}


def _read_cache(cache_file: Path | None) -> dict[str, list[Any]]:
    """path -> [size, mtime_ns, oldest instant (ISO) or None], or {} when absent or unreadable."""
    if cache_file is None or not cache_file.is_file():
        return {}
    try:
        return dict(json.loads(cache_file.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def _write_cache(cache_file: Path, cache: dict[str, list[Any]]) -> None:
    """Atomically, without the entries of files gone since (purged, re-landed elsewhere)."""
    kept = {k: v for k, v in cache.items() if Path(k).is_file()}
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(kept, sort_keys=True), encoding="utf-8")
    os.replace(tmp, cache_file)


def _file_minima(table: str, files: list[str]) -> dict[str, Any]:
    """Oldest ``OLD_ROW_INSTANTS[table]`` of each file (files without rows are left out)."""
    con = duckdb.connect()
    try:
        return dict(con.execute(
            f"select filename, min({OLD_ROW_INSTANTS[table]}) "
            "from read_parquet(?, union_by_name = true, filename = true) group by filename",
            [files],
        ).fetchall())
    finally:
        con.close()


def earliest_landed_row_day(
    batches: list[tuple[dt.date, Path]], tz: str, cache_file: Path | None = None
) -> dt.date | None:
    """Local date of the oldest row of ``OLD_ROW_INSTANTS`` landed in ``batches``: a request's
    clock must start on a calendar that covers its receipt.

    With ``cache_file``, each file's oldest instant is kept there under its path, size and
    modification time (ns), and only files new or changed since are read (issue 16: reading
    every landed file again made each night cost in proportion to the history). The minimum
    over files is the minimum over their rows, so the answer is the same as without the cache.
    """
    cache = _read_cache(cache_file)
    minima: list[str | None] = []
    to_read: dict[str, dict[str, list[int]]] = {}
    for table in OLD_ROW_INSTANTS:
        for _, d in batches:
            path = d / f"{table}.parquet"
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            signature = [st.st_size, st.st_mtime_ns]
            hit = cache.get(str(path))
            if hit is not None and hit[:2] == signature:
                minima.append(hit[2])
            else:
                to_read.setdefault(table, {})[str(path)] = signature
    for table, files in to_read.items():
        found = _file_minima(table, list(files))
        for f, signature in files.items():
            first = found.get(f)
            cache[f] = [*signature, first.isoformat() if first is not None else None]
            minima.append(cache[f][2])
    if to_read and cache_file is not None:
        _write_cache(cache_file, cache)
    firsts = [dt.datetime.fromisoformat(m) for m in minima if m is not None]
    if not firsts:
        return None
    return min(firsts).astimezone(zoneinfo.ZoneInfo(tz)).date()


def calendar_range(cfg: VigieConfig, day: dt.date) -> tuple[dt.date, dt.date]:
    """[min(earliest landed day, oldest landed ticket, letter or message, day) - 31 days,
    day + 400 days].

    Only batches up to `day` count: the range is a function of the landing as known that night.
    """
    batches = landed_batch_dirs(landing_root(cfg), day)
    candidates = [day, *(d for d, _ in batches)]
    oldest_row_day = earliest_landed_row_day(
        batches, cfg.collectivite.timezone, warehouse_path(cfg).parent / "landed_row_minima.json"
    )
    if oldest_row_day is not None:
        candidates.append(oldest_row_day)
    return min(candidates) - CALENDAR_MARGIN_BEFORE, day + CALENDAR_MARGIN_AFTER


def warehouse_path(cfg: VigieConfig) -> Path:
    """The DuckDB warehouse file (``outputs.warehouse``), resolved against the config file."""
    return cfg.path(cfg.outputs.warehouse)


def load_night_config(cfg: VigieConfig, day: dt.date, warehouse: Path) -> None:
    """The config tables of night ``day`` in ``warehouse``, over its calendar range.

    Alert ages count from the later of the night and the newest landed night (DECISIONLOG Part 6,
    "Age of alerts"): a function of the landing, so a rerun gives the same candidates, and a
    night rebuilt after later nights landed (a backfill, a late source) does not page heads about
    weeks that were already old when it ran."""
    start, end = calendar_range(cfg, day)
    from vigie.retention import newest_landed_night

    newest = newest_landed_night(cfg)
    con = duckdb.connect(str(warehouse))
    try:
        load_config_tables(con, cfg, start, end, run_day=day, alerts_age_from=newest)
    finally:
        con.close()
