"""Asterisk SQL ``cdr`` table (cdr_pgsql, cdr_odbc, cdr_adaptive_odbc) -> ``cdr_legs``.

Two schemas in the field (source-formats.md §1), detected from the table's columns:

- Asterisk's own: ``start, answer, "end"`` (``end`` is reserved in PostgreSQL: SQLAlchemy
  quotes it);
- classic / FreePBX (``asteriskcdrdb.cdr``): ``calldate`` (= start) and no answer/end. Vigie
  derives ``end_at = calldate + duration`` and, when ``billsec > 0``, ``answer_at = end_at -
  billsec`` (billsec = end - answer by definition). Example: calldate 10:00:00, duration 75,
  billsec 60 -> answer 10:00:15, end 10:01:15; billsec 0 -> answer null.

``disposition`` is text (``ANSWERED``...) or, with ``cdr_odbc`` without ``dispositionstring``,
an integer: 0 NO ANSWER, 2 FAILED, 4 BUSY, 8 ANSWERED, 16 CONGESTION, 32 CANCEL (decided per
value, so a column converted half-way reads too); another integer is a reject.

Naive timestamps are in ``source.timezone`` (default the collectivité's zone: cdr_pgsql and
FreePBX write local time unless ``usegmtime``); the repeated autumn hour takes its first
occurrence. Legs are kept when ``start`` lies in the night (a coarse SQL range with one day of
margin, then the exact UTC test). ``source_file`` is the table name and ``source_line`` the
leg's rank in the night's selection ordered by (start, uniqueid, channel, dstchannel): the
``cdr`` table has no key (FreePBX's has none either), so a rank is the only position a reject
can cite (``row N of night D``).

Nothing identifying is read: ``clid``, ``cnam``, ``cnum``, ``lastdata``, ``userfield``,
``recordingfile`` are never selected, so caller names in any encoding never reach Vigie;
``src``/``dst`` are keyed, channels masked as for Master.csv.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import Any

import pyarrow as pa
from sqlalchemy import Table, select

from connectors.extract import SourceUnavailable
from connectors.landing import ExtractResult, Reject
from connectors.landing_schemas import TS
from connectors.pseudonymise import Pseudonymiser
from connectors.sql_engine import (
    engine_for,
    fetch_rows,
    naive_to_utc,
    naive_window,
    reflect_table,
)
from connectors.telephony.asterisk_cdr_csv import TABLE, mask_channel
from vigie.config import AsteriskCdrSqlSource, VigieConfig
from vigie.intervals import NightInterval

log = logging.getLogger(__name__)

DISPOSITION_CODES = {
    0: "NO ANSWER",
    2: "FAILED",
    4: "BUSY",
    8: "ANSWERED",
    16: "CONGESTION",
    32: "CANCEL",
}
READ = (
    "accountcode", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp",
    "start", "answer", "end", "calldate", "duration", "billsec", "disposition", "amaflags",
    "uniqueid", "linkedid", "sequence",
)  # fmt: skip
STRING_OUT = ("accountcode", "dcontext", "lastapp", "amaflags", "uniqueid", "linkedid")


def disposition_text(value: Any) -> str | None:
    """Disposition as Asterisk's text; None for an integer code Asterisk never writes."""
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return DISPOSITION_CODES.get(int(text))
    return text


def _sequence(value: Any) -> int | None:
    """The CDR ``sequence`` as an integer (None when the schema has no such column, or a value
    is no whole number): it orders the legs of one call (int_phone_calls_from_cdr)."""
    text = "" if value is None else str(value).strip()
    return int(text) if text.isdigit() else None


def _reflect(engine: Any, source: AsteriskCdrSqlSource) -> tuple[Table, str]:
    table = reflect_table(engine, source.id, source.table, source.connection_id)
    cols = set(table.c.keys())
    if "start" in cols:
        schema = "asterisk"
    elif "calldate" in cols:
        schema = "freepbx"
    else:
        schema = ""
    missing = [c for c in ("src", "dst", "duration", "billsec", "disposition") if c not in cols]
    if not schema or missing:
        raise SourceUnavailable(
            f"source {source.id!r}: table {source.table!r} is neither Asterisk's cdr "
            f'(start, answer, "end") nor FreePBX\'s (calldate); missing '
            f"{missing or ['start or calldate']}"
        )
    return table, schema


def read_interval(
    cfg: VigieConfig, source: AsteriskCdrSqlSource, night: NightInterval, pseudo: Pseudonymiser
) -> ExtractResult:
    zone = zoneinfo.ZoneInfo(source.timezone or cfg.collectivite.timezone)
    engine = engine_for(source.id, source.connection_id)
    try:
        table, schema = _reflect(engine, source)
        cols = set(table.c.keys())
        start_col = table.c.start if schema == "asterisk" else table.c.calldate
        lo, hi = naive_window(night, zone)
        wanted = [table.c[c] for c in READ if c in cols]
        order = [start_col] + [
            table.c[c] for c in ("uniqueid", "channel", "dstchannel") if c in cols
        ]
        query = select(*wanted).where(start_col >= lo, start_col < hi).order_by(*order)
        rows = fetch_rows(engine, source.id, source.table, query)
    finally:
        engine.dispose()

    out: dict[str, list[Any]] = {
        k: []
        for k in (
            "source_line", "src", "dst", "channel", "dstchannel", "start_at", "answer_at",
            "end_at", "duration", "billsec", "disposition", "sequence", *STRING_OUT,
        )
    }  # fmt: skip
    rejects: list[Reject] = []
    rank = 0
    for row in rows:
        start = naive_to_utc(row.get("start", row.get("calldate")), zone)
        if start is None or not (night.start_utc <= start < night.end_utc):
            continue
        rank += 1
        duration, billsec = row.get("duration"), row.get("billsec")
        disposition = disposition_text(row.get("disposition"))
        if disposition is None:
            reason = f"disposition {row.get('disposition')!r} is not an Asterisk disposition"
            rejects.append(Reject(TABLE, source.table, f"row {rank} of night {night.day}", reason))
            continue
        if schema == "asterisk":
            answer, end = naive_to_utc(row.get("answer"), zone), naive_to_utc(row.get("end"), zone)
        else:
            end = start + dt.timedelta(seconds=int(duration or 0))
            answer = end - dt.timedelta(seconds=int(billsec)) if billsec else None
        out["source_line"].append(rank)
        out["start_at"].append(start)
        out["answer_at"].append(answer)
        out["end_at"].append(end)
        out["duration"].append(None if duration is None else int(duration))
        out["billsec"].append(None if billsec is None else int(billsec))
        out["disposition"].append(disposition)
        out["sequence"].append(_sequence(row.get("sequence")))
        for k in ("src", "dst", "channel", "dstchannel", *STRING_OUT):
            v = row.get(k)
            out[k].append(None if v in (None, "") else str(v))
    s = pa.string()
    legs = pa.table(
        {
            "source_file": pa.array([source.table] * len(out["start_at"]), s),
            "source_line": pa.array(out["source_line"], pa.int64()),
            "accountcode": pa.array(out["accountcode"], s),
            "src_key": pseudo.phone_array(pa.array(out["src"], s)),
            "dst_key": pseudo.phone_array(pa.array(out["dst"], s)),
            "dcontext": pa.array(out["dcontext"], s),
            "channel": pa.array([mask_channel(v) for v in out["channel"]], s),
            "dstchannel": pa.array([mask_channel(v) for v in out["dstchannel"]], s),
            "lastapp": pa.array(out["lastapp"], s),
            "start_at": pa.array(out["start_at"], TS),
            "answer_at": pa.array(out["answer_at"], TS),
            "end_at": pa.array(out["end_at"], TS),
            "duration": pa.array(out["duration"], pa.int64()),
            "billsec": pa.array(out["billsec"], pa.int64()),
            "disposition": pa.array(out["disposition"], s),
            "amaflags": pa.array(out["amaflags"], s),
            "uniqueid": pa.array(out["uniqueid"], s),
            "linkedid": pa.array(out["linkedid"], s),
            "sequence": pa.array(out["sequence"], pa.int64()),
        }
    )
    log.info("%s: %d leg(s) in %s (%s schema)", source.id, legs.num_rows, night.day, schema)
    meta = {"table": source.table, "schema": schema, "rows_read": len(rows), "legs": legs.num_rows}
    return ExtractResult(tables={TABLE: legs}, rejects=rejects, meta=meta)
