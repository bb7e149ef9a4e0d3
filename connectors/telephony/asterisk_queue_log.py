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

Malformed lines (fewer than 5 fields, an epoch that is not an integer or lies outside
``PLAUSIBLE_EPOCHS``, no event name, more than ``MAX_LINE_CHARS`` characters) become rejects
with file, line and reason. A line with no usable epoch belongs to the night of the
nearest earlier line of the same file that has one (the next one for leading lines), so each
malformed line is reported by exactly one night.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from connectors.extract import SourceUnavailable
from connectors.landing import ExtractResult, Reject
from connectors.landing_schemas import QUEUE_LOG_EVENTS, TS
from connectors.pseudonymise import Pseudonymiser, mask_digit_runs_array
from connectors.telephony.file_positions import (
    FileState,
    can_skip,
    first_line_key,
    learn_positions,
    load_state,
    read_window,
    save_state,
    state_path,
)
from connectors.telephony.source_files import read_lines_from, resolve_files
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
# Epochs a queue_log line can carry: [2000-01-01, 2100-01-01) UTC. A line outside (epoch ``7``,
# a 12-digit epoch) is rejected with its value, and places neither itself nor its neighbours.
PLAUSIBLE_EPOCHS = (946_684_800, 4_102_444_800)
# The longest line read as an event: Asterisk writes a queue_log event in a buffer of a few
# hundred bytes; a longer line is a reject (its fields would otherwise land, however long).
MAX_LINE_CHARS = 65_536

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


_EPOCH = r"^(?P<epoch>\d{1,12})(?:\||$)"  # the rule: 1-12 ASCII digits, then '|' or the end


def leading_epochs(lines: pa.Array) -> pa.Array:
    """The leading epoch of every line (``_EPOCH``), null when the line has none.

    Why two paths: the regex over every line of a 5-million-line file costs about 0.6 s. Every
    epoch between 2001 and 2286 has 10 digits, so a line whose first '|' is its 11th character
    and whose first 10 characters are ASCII digits is read by slicing; only the other lines
    (blank, malformed, other widths) go through the regex, which stays the definition."""
    head10 = pc.utf8_slice_codeunits(lines, 0, 10)
    fast = pc.and_(pc.equal(pc.find_substring(lines, "|"), 10), pc.ascii_is_decimal(head10))
    epoch = pc.if_else(fast, head10, None).cast(pa.int64())
    slow = pc.invert(fast)
    if pc.any(slow).as_py():
        head = pc.extract_regex(lines.filter(slow), _EPOCH)
        slow_epoch = pc.if_else(pc.is_valid(head), head.field("epoch"), None).cast(pa.int64())
        epoch = pc.replace_with_mask(epoch, slow, slow_epoch)
    return epoch


@dataclass
class _FileRead:
    """One file's night: raw events (with their line text for deduplication), rejects with
    their line text, statistics, and what the read taught for the saved state."""

    table: pa.Table
    rejects: list[tuple[Reject, str]]
    stats: dict[str, int]
    state: FileState | None


def _read_file(
    source_id: str,
    path: Path,
    night: NightInterval,
    previous: FileState | None = None,
    overlap_seconds: int = 3600,
    learn: bool = True,
) -> _FileRead:
    """Events of one file inside the night, with their line numbers, and the night's rejects.

    Only the leading epoch is parsed on every line; the full split runs on the lines of the
    night (about 1/30 of a month-long file). With a saved state the read starts at the latest
    valid checkpoint at or before the night's start minus the overlap window, and, in a file
    unchanged since, stops at the first saved stop at or after the night's end plus the
    overlap window (a backfill of N nights then reads each byte about once, not N times)."""
    start = int(night.start_utc.timestamp())
    end = int(night.end_utc.timestamp())
    offset, line_base, stop = read_window(path, previous, start - overlap_seconds, end + overlap_seconds)
    lines, starts = read_lines_from(source_id, path, offset, stop)
    written = leading_epochs(lines)
    # An implausible epoch is no time at all: the line is placed like a line without one (and
    # rejected with its value), so one corrupt line never decides where a night's reads start.
    plausible = pc.and_(
        pc.greater_equal(written, PLAUSIBLE_EPOCHS[0]), pc.less(written, PLAUSIBLE_EPOCHS[1])
    )
    epoch = pc.if_else(plausible, written, None)
    stats = {
        "lines": line_base + len(lines),
        "lines_read": len(lines),
        "start_offset": offset,
        "stop_offset": -1 if stop is None else stop,
        "lines_without_epoch": epoch.null_count,
    }
    if epoch.null_count == len(epoch):
        if written.null_count < len(written):
            raise SourceUnavailable(
                f"source {source_id!r}: {str(path)!r} has {len(lines)} line(s) and no epoch in "
                f"the years 2000-2099 (the smallest is {pc.min(written).as_py()}): is this an "
                f"Asterisk queue_log whose clock was right?"
            )
        if not pc.any(pc.greater(pc.binary_length(pc.utf8_trim_whitespace(lines)), 0)).as_py():
            empty = QUEUE_LOG_EVENTS.empty_table().drop_columns(["source_id"])
            empty = empty.append_column("_line", pa.array([], pa.string()))
            return _FileRead(empty, [], stats, None)  # empty or blank file
        raise SourceUnavailable(
            f"source {source_id!r}: {str(path)!r} has {len(lines)} line(s) and none reads as "
            f"'epoch|callid|queuename|agent|event|data...': is the source's 'path' pointing at "
            f"an Asterisk queue_log file (not a CDR or a SQL dump)?"
        )
    # Night of each line: its own epoch, else the nearest earlier (then later) line's epoch.
    anchor = pc.fill_null_backward(pc.fill_null_forward(epoch))
    # A bounded read of an unchanged file teaches nothing new: its positions stay as saved;
    # without saved state (incremental: false) nothing is learnt at all.
    new_state: FileState | None
    if not learn:
        new_state = None
    elif stop is not None and previous is not None:
        new_state = previous
    else:
        new_state = learn_positions(path, anchor, starts, line_base, previous, offset)
    in_night = pc.and_(pc.greater_equal(anchor, start), pc.less(anchor, end))
    index = pc.indices_nonzero(in_night)
    lines, epoch = lines.take(index), epoch.take(index)
    line_no = pc.add(index.cast(pa.int64()), 1 + line_base)
    # Blank lines are no records: skipped, not rejected.
    nonblank = pc.greater(pc.binary_length(pc.utf8_trim_whitespace(lines)), 0)
    lines, epoch, line_no = lines.filter(nonblank), epoch.filter(nonblank), line_no.filter(nonblank)
    written = written.take(index).filter(nonblank)

    parts = pc.split_pattern(lines, "|", max_splits=len(FIELDS) - 1)
    nfields = pc.list_value_length(parts)
    cols = {name: _field(parts, i) for i, name in enumerate(FIELDS)}
    epoch_ok = pc.is_valid(epoch)
    too_few = pc.less(nfields, MIN_FIELDS)
    no_event = pc.equal(pc.utf8_trim_whitespace(pc.fill_null(cols["event"], "")), "")
    too_long = pc.greater(pc.utf8_length(lines), MAX_LINE_CHARS)
    bad = pc.or_(pc.or_(pc.or_(too_few, pc.invert(epoch_ok)), no_event), too_long)

    rejects: list[tuple[Reject, str]] = []
    if pc.any(bad).as_py():
        for pos, long, n, few, ok, value, text in zip(
            line_no.filter(bad).to_pylist(),
            too_long.filter(bad).to_pylist(),
            nfields.filter(bad).to_pylist(),
            too_few.filter(bad).to_pylist(),
            epoch_ok.filter(bad).to_pylist(),
            written.filter(bad).to_pylist(),
            lines.filter(bad).to_pylist(),
            strict=True,
        ):
            if long:
                reason = (
                    f"line longer than {MAX_LINE_CHARS} characters (a queue_log event is a few "
                    f"hundred): not read"
                )
            elif few:
                reason = (
                    f"fewer than {MIN_FIELDS} fields ({n}); expected "
                    "epoch|callid|queuename|agent|event|data..."
                )
            elif not ok and value is not None:
                reason = (
                    f"epoch (field 1) {value} lies outside the years 2000-2099 "
                    f"({PLAUSIBLE_EPOCHS[0]} to {PLAUSIBLE_EPOCHS[1] - 1})"
                )
            elif not ok:
                reason = "epoch (field 1) is not an integer number of seconds"
            else:
                reason = "event name (field 5) is empty"
            rejects.append((Reject(TABLE, path.name, f"line {pos}", reason), text))

    keep = pc.invert(bad)
    n_keep = int(pc.sum(keep).as_py() or 0)
    table = pa.table(
        {
            "source_file": pa.repeat(pa.scalar(path.name, pa.string()), n_keep),
            "source_line": line_no.filter(keep),
            "epoch": epoch.filter(keep),
            **{name: cols[name].filter(keep) for name in FIELDS[1:]},
            "_line": lines.filter(keep),
        }
    )
    return _FileRead(table, rejects, stats, new_state)


def dedup_across_files(reads: list[_FileRead]) -> tuple[list[pa.Table], list[Reject], int]:
    """Drop lines whose exact text already occurs in an earlier file of the stream.

    A rotated copy left beside its original (``queue_log.1`` and ``queue_log.1.gz`` during
    compression, logrotate ``copy``) would otherwise double every event. Identical lines inside
    one file are kept: Asterisk wrote them twice. Returns tables, rejects and the number of
    lines dropped."""
    seen: list[pa.Array] = []
    seen_rejects: set[str] = set()
    tables: list[pa.Table] = []
    rejects: list[Reject] = []
    dropped = 0
    for read in reads:
        table = read.table
        if seen and table.num_rows:
            prior = pa.concat_arrays(seen)
            dup = pc.is_in(table.column("_line"), value_set=prior)
            n_dup = int(pc.sum(dup).as_py() or 0)
            if n_dup:
                dropped += n_dup
                table = table.filter(pc.invert(dup))
        if read.table.num_rows:
            seen.append(read.table.column("_line").combine_chunks())
        for reject, text in read.rejects:
            if text in seen_rejects:
                dropped += 1
                continue
            rejects.append(reject)
        seen_rejects.update(text for _, text in read.rejects)
        if table.num_rows:
            tables.append(table.drop_columns(["_line"]))
    return tables, rejects, dropped


def pseudonymise_events(raw: pa.Table, pseudo: Pseudonymiser) -> pa.Table:
    """Raw queue_log fields -> landed columns (shared by the file and SQL connectors)."""
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
    if "event_at" in raw.column_names:  # SQL tables carry microseconds
        event_at = raw.column("event_at").combine_chunks().cast(TS)
    else:
        epoch = raw.column("epoch").combine_chunks()
        event_at = pc.multiply(epoch, 1_000_000).cast(pa.timestamp("us")).cast(TS)
    return pa.table(
        {
            "source_file": raw.column("source_file"),
            "source_line": raw.column("source_line"),
            "event_at": event_at,
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
    spath = state_path(cfg.path(cfg.outputs.landing), source.id)
    saved = load_state(spath) if source.incremental else {}
    new_states: dict[str, FileState] = {}
    reads: list[_FileRead] = []
    file_stats: dict[str, dict[str, int]] = {}
    start = int(night.start_utc.timestamp())
    end = int(night.end_utc.timestamp())
    for path in files:
        key = first_line_key(path) if source.incremental else None
        previous = saved.get(key) if key else None
        if previous is not None and can_skip(path, previous, start - source.overlap_seconds, end):
            new_states[key] = previous  # type: ignore[index]
            file_stats[path.name] = {"skipped_by_state": 1, "events_in_night": 0}
            continue
        read = _read_file(
            source.id, path, night, previous, source.overlap_seconds, learn=source.incremental
        )
        read.stats["events_in_night"] = read.table.num_rows
        file_stats[path.name] = read.stats
        reads.append(read)
        if key and read.state is not None:
            new_states[key] = read.state
    tables, rejects, duplicates = dedup_across_files(reads)
    if source.incremental:
        # Keep states of files not seen tonight only if they could come back (never: a file
        # that left the glob is gone), so the state holds exactly the current files.
        save_state(spath, new_states)
    if tables:
        events = pseudonymise_events(pa.concat_tables(tables), pseudo)
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
    meta = {
        "files": [p.name for p in files],
        "file_stats": file_stats,
        "events": events.num_rows,
        "duplicate_lines_dropped": duplicates,
    }
    return ExtractResult(tables={TABLE: events}, rejects=rejects, meta=meta)
