"""Asterisk ``queue_log`` files -> ``queue_log_events`` (one row per event of the night).

Format (source-formats.md §2): ``epoch|callid|queuename|agent|event|data1|...|data5``, epoch in
UTC seconds. The source path is a glob of rotated files, read oldest first so the stream is
chronological (``connectors.telephony.source_files``). Events are kept when their epoch falls
in the night's local day [D 00:00, D+1 00:00): selection by event time, not by file, because a
call can be split across a rotated pair and a rotated file holds several days.

Why Arrow compute rather than DuckDB's ``read_csv``: the contract carries ``source_line`` for
every landed event, and DuckDB's CSV reader (2.0.1) reports line numbers only for rejected
lines (``reject_errors``, where one bad line can even appear twice); good rows carry none, and
blank lines are skipped. Arrow's CSV reader, used as a line splitter (one column, no quoting,
empty lines kept), gives every line its number without a Python object per line; only the
leading epoch is parsed on every line, the full split runs on the night's lines, and each
distinct caller and agent is hashed once.

Pseudonymisation: ENTERQUEUE ``data2`` (caller-id number) becomes ``caller_key`` and
``data2``/``data4``/``data5`` (number, name, undefined) are nulled; ``agent`` becomes
``agent_key`` (``NONE`` gives null); in every other data field that is not one of the numbers
Vigie computes with (``NUMERIC_DATA``), digit runs of 6+ are masked (a blind transfer to
``0612345678`` lands as ``XXXXXXXXXX``).

Malformed lines (fewer than 5 fields, an epoch that is not an integer, no event name) become
rejects with file, line and reason. A line with no usable epoch belongs to the night of the
nearest earlier line of the same file that has one (the next one for leading lines), so each
malformed line is reported by exactly one night.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from connectors.extract import SourceUnavailable
from connectors.landing import ExtractResult, Reject
from connectors.landing_schemas import QUEUE_LOG_EVENTS, TS
from connectors.pseudonymise import Pseudonymiser, mask_digit_runs_array
from connectors.telephony.source_files import read_lines, resolve_files
from vigie.config import AsteriskQueueLogSource, VigieConfig
from vigie.intervals import NightInterval

log = logging.getLogger(__name__)

TABLE = "queue_log_events"
FIELDS = (
    "epoch",
    "callid",
    "queue_name",
    "agent",
    "event",
    "data1",
    "data2",
    "data3",
    "data4",
    "data5",
)
MIN_FIELDS = 5

# Data fields (1-based) kept verbatim: counters, times and uniqueids Vigie computes with.
NUMERIC_DATA: dict[str, frozenset[int]] = {
    "ENTERQUEUE": frozenset({3}),
    "CONNECT": frozenset({1, 2, 3}),
    "COMPLETECALLER": frozenset({1, 2, 3}),
    "COMPLETEAGENT": frozenset({1, 2, 3}),
    "ABANDON": frozenset({1, 2, 3}),
    "EXITWITHTIMEOUT": frozenset({1, 2, 3}),
    "EXITEMPTY": frozenset({1, 2, 3}),
    "EXITWITHKEY": frozenset({1, 2, 3, 4}),
    "RINGNOANSWER": frozenset({1}),
    "RINGCANCELED": frozenset({1}),
    "TRANSFER": frozenset({3, 4, 5}),
    "BLINDTRANSFER": frozenset({3, 4, 5}),
    "ATTENDEDTRANSFER": frozenset({3, 4, 5}),
}


def _field(parts: pa.Array, i: int) -> pa.Array:
    """Field ``i`` of every split line, null where the line has fewer fields."""
    return pc.list_slice(parts, i, i + 1, return_fixed_size_list=True).flatten().cast(pa.string())


def _empty_to_null(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _read_file(
    source_id: str, path: Path, night: NightInterval
) -> tuple[pa.Table, list[Reject], dict[str, int]]:
    """Events of one file inside the night, with their line numbers, and the night's rejects.

    Only the leading epoch is parsed on every line; the full split runs on the lines of the
    night (about 1/30 of a month-long file)."""
    lines = read_lines(source_id, path)
    head = pc.extract_regex(lines, r"^(?P<epoch>\d{1,12})(?:\||$)")  # null when no match
    epoch = pc.if_else(pc.is_valid(head), head.field("epoch"), None).cast(pa.int64())
    stats = {"lines": len(lines), "lines_without_epoch": epoch.null_count}
    if epoch.null_count == len(epoch):
        if not pc.any(pc.greater(pc.binary_length(pc.utf8_trim_whitespace(lines)), 0)).as_py():
            return QUEUE_LOG_EVENTS.empty_table(), [], stats  # empty or blank file
        raise SourceUnavailable(
            f"source {source_id!r}: {str(path)!r} has {len(lines)} line(s) and none reads as "
            f"'epoch|callid|queuename|agent|event|data...': is the source's 'path' pointing at "
            f"an Asterisk queue_log file (not a CDR or a SQL dump)?"
        )
    # Night of each line: its own epoch, else the nearest earlier (then later) line's epoch.
    anchor = pc.fill_null_backward(pc.fill_null_forward(epoch))
    start = int(night.start_utc.timestamp())
    end = int(night.end_utc.timestamp())
    in_night = pc.and_(pc.greater_equal(anchor, start), pc.less(anchor, end))
    index = pc.indices_nonzero(in_night)
    lines, epoch = lines.take(index), epoch.take(index)
    line_no = pc.add(index.cast(pa.int64()), 1)
    # Blank lines are no records: skipped, not rejected.
    nonblank = pc.greater(pc.binary_length(pc.utf8_trim_whitespace(lines)), 0)
    lines, epoch, line_no = lines.filter(nonblank), epoch.filter(nonblank), line_no.filter(nonblank)

    parts = pc.split_pattern(lines, "|", max_splits=len(FIELDS) - 1)
    nfields = pc.list_value_length(parts)
    cols = {name: _field(parts, i) for i, name in enumerate(FIELDS)}
    epoch_ok = pc.is_valid(epoch)
    too_few = pc.less(nfields, MIN_FIELDS)
    no_event = pc.equal(pc.utf8_trim_whitespace(pc.fill_null(cols["event"], "")), "")
    bad = pc.or_(pc.or_(too_few, pc.invert(epoch_ok)), no_event)

    rejects: list[Reject] = []
    if pc.any(bad).as_py():
        for pos, n, few, ok in zip(
            line_no.filter(bad).to_pylist(),
            nfields.filter(bad).to_pylist(),
            too_few.filter(bad).to_pylist(),
            epoch_ok.filter(bad).to_pylist(),
            strict=True,
        ):
            if few:
                reason = (
                    f"fewer than {MIN_FIELDS} fields ({n}); expected "
                    "epoch|callid|queuename|agent|event|data..."
                )
            elif not ok:
                reason = "epoch (field 1) is not an integer number of seconds"
            else:
                reason = "event name (field 5) is empty"
            rejects.append(Reject(TABLE, path.name, f"line {pos}", reason))

    keep = pc.invert(bad)
    n_keep = int(pc.sum(keep).as_py() or 0)
    table = pa.table(
        {
            "source_file": pa.repeat(pa.scalar(path.name, pa.string()), n_keep),
            "source_line": line_no.filter(keep),
            "epoch": epoch.filter(keep),
            **{name: cols[name].filter(keep) for name in FIELDS[1:]},
        }
    )
    return table, rejects, stats


def _pseudonymise(raw: pa.Table, pseudo: Pseudonymiser) -> pa.Table:
    event = raw.column("event").combine_chunks()
    is_enter = pc.equal(event, "ENTERQUEUE")
    null = pa.scalar(None, pa.string())
    data: dict[str, pa.Array] = {}
    for i in range(1, 6):
        col = _empty_to_null(raw.column(f"data{i}").combine_chunks())
        numeric = pc.is_in(
            event, pa.array([e for e, idx in NUMERIC_DATA.items() if i in idx], pa.string())
        )
        masked = mask_digit_runs_array(pc.if_else(numeric, null, col))  # distinct values only
        data[f"data{i}"] = pc.if_else(numeric, col, masked)
    # The caller's number is hashed from the unmasked field, then number and name are nulled.
    raw_d2 = _empty_to_null(raw.column("data2").combine_chunks())
    caller_key = pseudo.phone_array(pc.if_else(is_enter, raw_d2, null))
    data["data2"] = pc.if_else(is_enter, null, data["data2"])
    data["data4"] = pc.if_else(is_enter, null, data["data4"])
    data["data5"] = pc.if_else(is_enter, null, data["data5"])  # undefined: may hold a name
    agent = raw.column("agent").combine_chunks()
    agent = pc.if_else(pc.is_in(agent, pa.array(["NONE", ""], pa.string())), null, agent)
    epoch = raw.column("epoch").combine_chunks()
    return pa.table(
        {
            "source_file": raw.column("source_file"),
            "source_line": raw.column("source_line"),
            "event_at": pc.multiply(epoch, 1_000_000).cast(pa.timestamp("us")).cast(TS),
            "callid": raw.column("callid"),
            "queue_name": raw.column("queue_name"),
            "agent_key": pseudo.key_array("agent", agent),
            "event": event,
            **data,
            "caller_key": caller_key,
        }
    )


def read_interval(
    cfg: VigieConfig, source: AsteriskQueueLogSource, night: NightInterval, pseudo: Pseudonymiser
) -> ExtractResult:
    files = resolve_files(source.id, cfg.path(source.path), "queue_log")
    tables: list[pa.Table] = []
    rejects: list[Reject] = []
    file_stats: dict[str, dict[str, int]] = {}
    for path in files:
        table, file_rejects, stats = _read_file(source.id, path, night)
        stats["events_in_night"] = table.num_rows
        file_stats[path.name] = stats
        if table.num_rows:
            tables.append(table)
        rejects.extend(file_rejects)
    if tables:
        events = _pseudonymise(pa.concat_tables(tables), pseudo)
    else:
        events = QUEUE_LOG_EVENTS.empty_table().drop_columns(["source_id"])
    log.info(
        "%s: %d file(s), %d event(s) in %s, %d reject(s)",
        source.id,
        len(files),
        events.num_rows,
        night.day,
        len(rejects),
    )
    meta = {"files": [p.name for p in files], "file_stats": file_stats, "events": events.num_rows}
    return ExtractResult(tables={TABLE: events}, rejects=rejects, meta=meta)
