"""Asterisk realtime ``queue_log`` table (SQL) -> ``queue_log_events``, like the file connector.

Layouts found in the field (source-formats.md §2), detected from the table's columns:

- Asterisk's schema: ``id, time, callid, queuename, agent, event, data1..data5``;
- legacy: one ``data`` column holding the pipe-joined fields (``"1|2|15"``);
- both (FreePBX): per row, ``data1..data5`` when any of them is non-empty, else ``data`` split
  on ``|`` (a row written by a legacy writer into a table that has both).

``time`` is a timestamp, or a ``char(26)`` string ``YYYY-MM-DD HH:MM:SS.ffffff`` (microseconds
optional). Naive values are in ``source.timezone`` (default: the collectivité's zone, Asterisk's
default; ``UTC`` with ``queue_log_realtime_use_gmt=yes``); the repeated autumn hour takes its
first occurrence, as for CDR files. Microseconds are kept.

The night is selected exactly on the UTC instant after a coarse SQL range (one day of margin on
each side, so the query never depends on the database's own time zone rules). Landed position:
``source_file`` = the table name, ``source_line`` = the row's ``id``; rejects say ``id N``.
Pseudonymisation is the file connector's (``pseudonymise_events``).
"""

from __future__ import annotations

import logging
import zoneinfo
from typing import Any

import pyarrow as pa
from sqlalchemy import String, Table, select

from connectors.extract import SourceUnavailable
from connectors.landing import ExtractResult, Reject
from connectors.landing_schemas import QUEUE_LOG_EVENTS
from connectors.pseudonymise import Pseudonymiser
from connectors.sql_engine import (
    engine_for,
    fetch_rows,
    naive_to_utc,
    naive_window,
    reflect_table,
)
from connectors.telephony.asterisk_queue_log import TABLE, pseudonymise_events
from vigie.config import AsteriskQueueLogSqlSource, VigieConfig
from vigie.intervals import NightInterval

log = logging.getLogger(__name__)

REQUIRED = ("time", "callid", "queuename", "agent", "event")
DATA_N = tuple(f"data{i}" for i in range(1, 6))
def split_data(row: dict[str, Any], has_n: bool, has_data: bool) -> list[str | None]:
    """The five data fields of a row in whichever layout it was written."""
    if has_n:
        fields = [row.get(c) for c in DATA_N]
        if any(f not in (None, "") for f in fields) or not has_data:
            return [None if f is None else str(f) for f in fields]
    text = row.get("data") if has_data else None
    if text in (None, ""):
        return [None] * 5
    parts = str(text).split("|", 4)  # the 5th keeps any remainder, as in files
    return parts + [None] * (5 - len(parts))


def _reflect(engine: Any, source: AsteriskQueueLogSqlSource) -> Table:
    table = reflect_table(engine, source.id, source.table, source.connection_id)
    cols = set(table.c.keys())
    missing = [c for c in REQUIRED if c not in cols]
    if missing or not ({"data", *DATA_N} & cols):
        raise SourceUnavailable(
            f"source {source.id!r}: table {source.table!r} lacks column(s) "
            f"{missing or ['data or data1..data5']}; expected Asterisk's realtime queue_log "
            f"(id, time, callid, queuename, agent, event, data1..data5 and/or data)"
        )
    return table


def read_interval(
    cfg: VigieConfig, source: AsteriskQueueLogSqlSource, night: NightInterval, pseudo: Pseudonymiser
) -> ExtractResult:
    zone = zoneinfo.ZoneInfo(source.timezone or cfg.collectivite.timezone)
    engine = engine_for(source.id, source.connection_id)
    try:
        table = _reflect(engine, source)
        cols = set(table.c.keys())
        has_n = all(c in cols for c in DATA_N)
        has_data = "data" in cols
        time_is_text = isinstance(table.c.time.type, String)
        lo, hi = naive_window(night, zone)
        if time_is_text:
            lo_v: Any = lo.strftime("%Y-%m-%d %H:%M:%S")
            hi_v: Any = hi.strftime("%Y-%m-%d %H:%M:%S")
        else:
            lo_v, hi_v = lo, hi
        wanted = [c for c in ("id", *REQUIRED, *DATA_N, "data") if c in cols]
        order = [table.c.time] + ([table.c.id] if "id" in cols else [])
        query = (
            select(*[table.c[c] for c in wanted])
            .where(table.c.time >= lo_v, table.c.time < hi_v)
            .order_by(*order)
        )
        rows = fetch_rows(engine, source.id, source.table, query)
    finally:
        engine.dispose()

    start, end = night.start_utc, night.end_utc
    out: dict[str, list[Any]] = {
        k: [] for k in ("source_line", "event_at", "callid", "queue_name", "agent", "event", *DATA_N)
    }
    rejects: list[Reject] = []
    for n, row in enumerate(rows, start=1):
        at = naive_to_utc(row["time"], zone)
        pos = f"id {row['id']}" if "id" in row else f"row {n}"
        if at is None:
            # An unreadable time has no night: reported by the night whose coarse range holds it
            # only if its text starts with the night's local date.
            text = str(row["time"] or "")
            if text[:10] == night.day.isoformat():
                reason = "time is not a 'YYYY-MM-DD HH:MM:SS[.ffffff]' timestamp"
                rejects.append(Reject(TABLE, source.table, pos, reason))
            continue
        if not (start <= at < end):
            continue
        if not str(row["event"] or "").strip():
            rejects.append(Reject(TABLE, source.table, pos, "event is empty"))
            continue
        out["source_line"].append(row.get("id"))
        out["event_at"].append(at)
        out["callid"].append(row["callid"])
        out["queue_name"].append(row["queuename"])
        out["agent"].append(row["agent"] if row["agent"] is not None else "")
        out["event"].append(row["event"])
        for name, value in zip(DATA_N, split_data(row, has_n, has_data), strict=True):
            out[name].append(value)
    raw = pa.table(
        {
            "source_file": pa.array([source.table] * len(out["event"]), pa.string()),
            "source_line": pa.array(out["source_line"], pa.int64()),
            "event_at": pa.array(out["event_at"], pa.timestamp("us", tz="UTC")),
            **{
                k: pa.array([None if v is None else str(v) for v in out[k]], pa.string())
                for k in ("callid", "queue_name", "agent", "event", *DATA_N)
            },
        }
    )
    events = (
        pseudonymise_events(raw, pseudo)
        if raw.num_rows
        else QUEUE_LOG_EVENTS.empty_table().drop_columns(["source_id"])
    )
    layout = "both" if has_n and has_data else ("data1..data5" if has_n else "data")
    log.info("%s: %d event(s) in %s (%s layout)", source.id, events.num_rows, night.day, layout)
    meta = {
        "table": source.table,
        "layout": layout,
        "time_type": "text" if time_is_text else "timestamp",
        "rows_read": len(rows),
        "events": events.num_rows,
    }
    return ExtractResult(tables={TABLE: events}, rejects=rejects, meta=meta)
