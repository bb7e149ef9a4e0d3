"""Asterisk ``cdr_csv`` ``Master.csv`` -> ``cdr_legs`` (one row per CDR leg started in the night).

Format (source-formats.md §1): no header; 16 base columns, then ``uniqueid``
(``loguniqueid``), ``userfield`` (``loguserfield``), ``peeraccount, linkedid, sequence``
(``newcdrcolumns``): 16, 17, 18 or 21 columns. ``source.columns`` fixes the count, or ``auto``
takes the most common count of the file's first 1000 records; a count cdr_csv never writes
fails loudly with the count found. With 17 columns the extra one is ``uniqueid`` when most of
its values look like one (``1706368044.12``, ``pbx1-1706368044.12``), else ``userfield``.

Timestamps are naive, in ``source.timezone`` (UTC with ``usegmtime=yes``); the repeated hour of
an autumn DST change resolves to its first occurrence. Rows are kept when ``start`` falls in
the night's local day. Strings are CSV-quoted with doubled quotes; bytes that are not UTF-8
(caller-id names) are replaced, never a crash. Parsing is vectorised: a regex pre-filter keeps
the lines whose first timestamp lies within 2 hours of the night (1 day for a cdr_custom layout
whose first timestamp is not ``start``), Arrow's CSV reader splits them into fields (one record a
line, so each keeps its line number), and checks, rejects and pseudonymisation run on columns;
only lines Arrow could read otherwise than Python's ``csv`` module (another width, a quote left
open) go through ``csv``, one line at a time (``parse_line``), which defines the behaviour.

Hostile input (issue 17, DECISIONLOG.md Part 4 §17): a line is LF-terminated (a bare CR is a
byte of its line); a line over ``MAX_RECORD_CHARS``, a line ``csv`` refuses, or a line cut
inside a quote is one reject under its own number; layout detection samples the lines that
split and lists the skipped ones; a night whose only records are bad lands its rejects.

Pseudonymisation: ``src``/``dst`` -> ``src_key``/``dst_key`` (phone normalisation first; a
``dst`` such as ``s`` that is no number gives null); digit runs of 6+ in ``channel`` and
``dstchannel`` are masked (``Local/0612345678@from-internal-0000001a;1`` ->
``Local/XXXXXXXXXX@from-internal-0000001a;1``; the 8-hex-digit channel sequence is kept, it tells
legs apart); ``clid``, ``lastdata`` (dial strings), ``userfield`` and ``peeraccount`` are dropped.
``sequence`` (21 columns, or a cdr_custom mapping naming it) is landed as an integer: it orders
the legs of one call when they start in the same second (DECISIONLOG.md, Part 3, phone).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import logging
import re
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.extract import SourceUnavailable
from connectors.landing import ExtractResult, Reject
from connectors.landing_schemas import TS
from connectors.pseudonymise import Pseudonymiser, mask_digit_runs
from connectors.telephony.file_positions import (
    first_line_key,
    learn_positions,
    load_state,
    read_window,
    save_state,
    state_path,
)
from connectors.telephony.source_files import read_lines_from, resolve_files
from vigie.config import AsteriskCdrCsvSource, VigieConfig
from vigie.intervals import NightInterval

log = logging.getLogger(__name__)

TABLE = "cdr_legs"
BASE = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
)  # fmt: skip
LAYOUTS: dict[int, tuple[str, ...]] = {
    16: BASE,
    17: (*BASE, "uniqueid"),  # or userfield: decided per file, see _layout
    18: (*BASE, "uniqueid", "userfield"),
    21: (*BASE, "uniqueid", "userfield", "peeraccount", "linkedid", "sequence"),
}
_UNIQUEID = re.compile(r"^([\w.-]+-)?\d+\.\d+$")
_CHANNEL_SUFFIX = re.compile(r"-[0-9a-f]{8}(;\d+)?$")
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
# How far a record's rough time (its first timestamp) may lie from its ``start``: nothing but the
# repeated autumn hour when ``start`` is the layout's first timestamp (every cdr_csv layout),
# a call's length when a cdr_custom mapping puts ``answer`` or ``end`` first.
START_FIRST_MARGIN = dt.timedelta(hours=2)
OTHER_FIRST_MARGIN = dt.timedelta(days=1)


def mask_channel(value: str | None) -> str | None:
    """Mask dialled numbers in a channel name, keeping Asterisk's ``-%08x`` sequence suffix."""
    if not value:
        return value or None
    m = _CHANNEL_SUFFIX.search(value)
    head, tail = (value[: m.start()], m.group(0)) if m else (value, "")
    return (mask_digit_runs(head) or "") + tail


# The longest line read as a record. Asterisk's cdr_csv builds a record in a 1 KiB buffer,
# cdr_custom in a few hundred bytes of mapping: 64 Ki characters is far above any real record
# and bounds what one line can cost (csv's own field limit is 128 KiB and raises).
MAX_RECORD_CHARS = 65_536


def parse_line(line: str) -> list[str] | str:
    """The fields of one line, or the reason it is no record (``csv`` on that line alone).

    Why one line at a time: cdr_csv and cdr_custom never write a newline inside a field, so a
    record ends where its line ends (DECISIONLOG.md, Part 4, "What a line is"); a line cut
    inside a quoted field is one reject and the next, intact line is read on its own, under
    its own number. ``csv`` errors (a bare CR in an unquoted field, a NUL) and over-long lines
    are reasons, never exceptions."""
    if len(line) > MAX_RECORD_CHARS:
        return (
            f"line longer than {MAX_RECORD_CHARS} characters (a CDR record is a few hundred): "
            f"not read"
        )
    try:
        return next(csv.reader([line], strict=False), [])
    except csv.Error as exc:
        what = "a carriage return (CR)" if "new-line" in str(exc) else "a character csv refuses"
        return f"{what} inside an unquoted field: the record cannot be split into columns"


def parse_lines(
    lines: list[str], numbers: list[int]
) -> tuple[list[tuple[int, list[str]]], list[tuple[int, str]]]:
    """(records, errors) of ``lines`` (line i is file line ``numbers[i]``): (line number,
    fields) of every non-blank line that splits into fields, and (line number, reason) of the
    lines that do not (see ``parse_line``). Blank lines and lines of empty fields are neither."""
    records: list[tuple[int, list[str]]] = []
    errors: list[tuple[int, str]] = []
    for number, line in zip(numbers, lines, strict=True):
        if not line.strip():
            continue
        fields = parse_line(line)
        if isinstance(fields, str):
            errors.append((number, fields))
        elif any(f.strip() for f in fields):
            records.append((number, fields))
    return records, errors


def _records(lines: list[str], numbers: list[int]) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line that splits into fields (``parse_lines``;
    lines that do not are skipped: check-config and layout detection sample the others)."""
    return parse_lines(lines, numbers)[0]


def _line_anchors(lines: pa.Array) -> pa.Array | None:
    """Seconds of each line's first ``YYYY-MM-DD HH:MM:SS`` (the wall clock of the file's zone,
    counted as if it were UTC), a line without one taking its nearest earlier (then later)
    neighbour's; None when no line has one. The rough time that picks candidate lines and
    places saved positions (connectors.telephony.file_positions)."""
    found = pc.extract_regex(lines, r"(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})")
    rough = pc.strptime(
        pc.if_else(pc.is_valid(found), found.field("ts"), None),
        format=TS_FORMAT,
        unit="s",
        error_is_null=True,
    )
    if rough.null_count == len(rough):
        return None
    return pc.fill_null_backward(pc.fill_null_forward(rough)).cast(pa.int64())


def _candidate_window(night: NightInterval, tz: str, names: tuple[str, ...]) -> tuple[int, int]:
    """[lo, hi) in anchor seconds: the night in the file's zone, widened by the margin of the
    layout ``names`` (``START_FIRST_MARGIN`` when ``start`` is its first timestamp column).

    Master.csv is never rotated and grows for years; parsing only this window keeps a night's
    extraction proportional to one day of calls. Why the margin is about the anchor and not
    about line order: records are written when a call ends, so lines are not in ``start``
    order, but the selection is by each line's own anchor, and saved positions
    (file_positions) bound the bytes by running maximum and suffix minimum, which hold for any
    order. The exact selection by ``start`` follows."""
    first = next(n for n in names if n in ("start", "answer", "end"))
    margin = START_FIRST_MARGIN if first == "start" else OTHER_FIRST_MARGIN
    zone = ZoneInfo(tz)
    lo = night.start.astimezone(zone).replace(tzinfo=None) - margin
    hi = night.end.astimezone(zone).replace(tzinfo=None) + margin
    epoch = dt.datetime(1970, 1, 1)
    return int((lo - epoch).total_seconds()), int((hi - epoch).total_seconds())


def _candidate_lines(
    lines: pa.Array, anchors: pa.Array | None, window: tuple[int, int], line_base: int
) -> tuple[pa.Array, pa.Array]:
    """The lines worth parsing (anchor inside ``window``) and their file line numbers (line i
    of ``lines`` is file line ``line_base + i + 1``). Without any timestamp every line is
    kept: the parser then says why none reads."""
    if anchors is None:
        return lines, pa.array(range(line_base + 1, line_base + len(lines) + 1), pa.int64())
    keep = pc.and_(pc.greater_equal(anchors, window[0]), pc.less(anchors, window[1]))
    index = pc.indices_nonzero(keep).cast(pa.int64())
    return lines.take(index), pc.add(index, 1 + line_base)


def _head_lines(source_id: str, path: Path, count: int = 1000) -> list[str]:
    """The file's first ``count`` lines, as ``read_lines`` gives them (layout detection); a
    line over ``MAX_RECORD_CHARS`` is cut just past it (it is no record either way), so one
    endless line costs its bytes' reading, never their memory."""
    out: list[str] = []
    limit = 4 * MAX_RECORD_CHARS + 1  # bytes: 4 per character at most in UTF-8
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            while len(out) < count:
                raw = fh.readline(limit)
                if not raw:
                    break
                if not raw.endswith(b"\n") and len(raw) == limit:
                    while (more := fh.readline(1 << 20)) and not more.endswith(b"\n"):
                        pass
                text = raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", errors="replace")
                out.append(text[: MAX_RECORD_CHARS + 1])
    except OSError as exc:
        raise SourceUnavailable(
            f"source {source_id!r}: cannot read {str(path)!r}: {exc.strerror or exc}; check the "
            f"file's permissions for the user running Vigie"
        ) from None
    return out


_ODD_QUOTE = r'[^,"]"[^,"]|^"[^,"]*"[^,"]|[^,"]"$'


def _columns_fast(
    lines: pa.Array, numbers: pa.Array, width: int
) -> tuple[pa.Array, list[pa.Array]] | None:
    """(line numbers, one string column per field) of the non-blank records of ``lines``, parsed
    by Arrow's CSV reader; None when the lines hold anything the reader could read otherwise
    than Python's ``csv`` module (a record of another width, a quote inside an unquoted field,
    a quoted field running over a line end): the caller then parses them with ``csv``.

    Why: ``csv`` costs about 1 s per 100,000 records, Arrow a few hundredths; cdr_csv writes
    every field quoted or a number, so on real files the fast path is the path."""
    blank = pc.equal(pc.utf8_trim_whitespace(lines), "")
    if pc.any(blank).as_py():
        keep = pc.invert(blank)
        lines, numbers = lines.filter(keep), numbers.filter(keep)
    if len(lines) == 0 or pc.any(pc.match_substring_regex(lines, _ODD_QUOTE)).as_py():
        return None
    if pc.any(pc.equal(pc.bit_wise_and(pc.count_substring(lines, '"'), 1), 1)).as_py():
        return None  # a quote left open: csv reads on into the next line, Arrow would not
    invalid: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append(1)
        return "skip"

    joined = pc.binary_join_element_wise(lines, "", "\n").cast(pa.large_string())
    offsets = joined.buffers()[1]
    first, last = np.frombuffer(offsets, dtype=np.int64)[
        [joined.offset, joined.offset + len(joined)]
    ]
    data = joined.buffers()[2].slice(int(first), int(last - first))
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                column_names=[f"c{i}" for i in range(width)], block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=",",
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    if invalid or table.num_rows != len(lines):
        return None
    columns = [c.combine_chunks() for c in table.columns]
    empty = None
    for c in columns:
        e = pc.equal(pc.utf8_trim_whitespace(c), "")
        empty = e if empty is None else pc.and_(empty, e)
    if empty is not None and pc.any(empty).as_py():  # a record of empty fields only: skipped
        keep = pc.invert(empty)
        numbers = numbers.filter(keep)
        columns = [c.filter(keep) for c in columns]
    return numbers, columns


def _layout(
    source: AsteriskCdrCsvSource, path: Path, records: list[tuple[int, list[str]]]
) -> tuple[str, ...]:
    counts = Counter(len(f) for _, f in records[:1000])
    found = counts.most_common(1)[0][0]
    if source.custom_columns is not None:  # cdr_custom: the configured mapping, in order
        names = tuple(source.custom_columns)
        if found != len(names):
            raise SourceUnavailable(
                f"source {source.id!r}: {str(path)!r} has {found} columns per record, but "
                f"custom_columns lists {len(names)}; copy the column order of the site's "
                f"cdr_custom.conf mapping (use '-' for a column Vigie does not need)"
            )
        return names
    if source.columns != "auto" and found != source.columns:
        fix = (
            f"set columns to {found} or to 'auto'"
            if found in LAYOUTS
            else "cdr_csv writes 16, 17, 18 or 21 columns, so this is a cdr_custom layout: "
            "remove columns and list the file's columns in custom_columns, in the order of "
            "the site's cdr_custom.conf mapping ('-' for a column Vigie does not need)"
        )
        raise SourceUnavailable(
            f"source {source.id!r}: {str(path)!r} has {found} columns per record, but the source "
            f"is configured with columns: {source.columns}; {fix}"
        )
    if found not in LAYOUTS:
        raise SourceUnavailable(
            f"source {source.id!r}: {str(path)!r} has {found} columns per record; Asterisk "
            f"cdr_csv writes 16, 17, 18 or 21 (cdr.conf loguniqueid/loguserfield/newcdrcolumns). "
            f"Is this a cdr_custom Master.csv (another layout) or not a CDR file?"
        )
    if found == 17:
        extra = [f[16] for _, f in records[:1000] if len(f) == 17]
        looks = sum(bool(_UNIQUEID.match(v)) for v in extra)
        if looks * 2 <= len(extra):
            return (*BASE, "userfield")
    return LAYOUTS[found]


def _timestamps(values: list[str | None], tz: str) -> pa.Array:
    naive = pc.strptime(
        pa.array(values, pa.string()), format=TS_FORMAT, unit="s", error_is_null=True
    )
    if tz == "UTC":
        aware = naive.cast(pa.timestamp("s", tz="UTC"))
    else:
        aware = pc.assume_timezone(naive, timezone=tz, ambiguous="earliest", nonexistent="earliest")
    return aware.cast(TS)


def _width_reason(width: int, found: int, parse_reason: str | None) -> str:
    """The reason of a record that is not ``width`` fields: the line's own parse problem when
    it has one (width -1: it split into no fields), with the count found otherwise."""
    if found < 0:
        return parse_reason or "the line does not split into columns"
    text = f"expected {width} columns, found {found}"
    return f"{text}; {parse_reason}" if parse_reason else text


def _rough_starts(
    cand_lines: pa.Array, cand_numbers: pa.Array, numbers: pa.Array, tz: str
) -> pa.Array:
    """Per record (``numbers``), the instant of its line's first timestamp in the file's zone
    (null without one): the placement of a bad record when the window holds no good one."""
    found = pc.extract_regex(cand_lines, r"(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})")
    text = pc.if_else(pc.is_valid(found), found.field("ts"), None)
    by_number = dict(zip(cand_numbers.to_pylist(), text.to_pylist(), strict=True))
    return _timestamps([by_number.get(k) for k in numbers.to_pylist()], tz)


def _check_start_column(
    source: AsteriskCdrCsvSource,
    path: Path,
    names: tuple[str, ...],
    records: list[tuple[int, list[str]]],
) -> None:
    """The source's one clean failure beyond the layout: among the first records of the layout's
    width, not one has a ``start`` timestamp where the layout puts it (a cdr_custom mapping in
    another order, a file that is no CDR). One damaged record never fails a night; a wrong
    mapping fails every night, so it is said once, here, with the column."""
    at = names.index("start")
    sample = [f[at] for _, f in records if len(f) == len(names)]
    if not sample:
        return
    parsed = pc.strptime(
        pa.array(sample, pa.string()), format=TS_FORMAT, unit="s", error_is_null=True
    )
    if parsed.null_count == len(sample):
        raise SourceUnavailable(
            f"source {source.id!r}: none of the {len(sample)} records of {len(names)} columns "
            f"among the first lines of {str(path)!r} has a 'YYYY-MM-DD HH:MM:SS' start in "
            f"column {at + 1}; check the source's columns/custom_columns"
        )


def _split_records(
    cand_lines: pa.Array, cand_numbers: pa.Array, names: tuple[str, ...]
) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array, dict[str, pa.Array], list[tuple[int, str]]]:
    """Split the candidate lines into the layout's fields.

    Returns the candidate lines and numbers that fit the length bound, then every record's line
    number, the number of fields found, the raw columns by name (null for a record of another
    width) and the parse errors. Over-long lines are rejects before any parser sees them (the
    bound of one record's cost); they and lines that split into no fields are records of width
    -1, in file order.
    """
    width = len(names)
    errors: list[tuple[int, str]] = []
    too_long = pc.greater(pc.utf8_length(cand_lines), MAX_RECORD_CHARS)
    if pc.any(too_long).as_py():
        reason = parse_line("x" * (MAX_RECORD_CHARS + 1))
        errors = [(k, str(reason)) for k in cand_numbers.filter(too_long).to_pylist()]
        fits = pc.invert(too_long)
        cand_lines, cand_numbers = cand_lines.filter(fits), cand_numbers.filter(fits)
    fast = _columns_fast(cand_lines, cand_numbers, width)
    if fast is not None:
        numbers, fields = fast
        found_width = pa.array([width] * len(numbers), pa.int64())
        raw = {name: fields[i] for i, name in enumerate(names) if name != "-"}
    else:
        records, line_errors = parse_lines(cand_lines.to_pylist(), cand_numbers.to_pylist())
        errors.extend(line_errors)
        numbers = pa.array([k for k, _ in records], pa.int64())
        found_width = pa.array([len(f) for _, f in records], pa.int64())
        raw = {
            name: pa.array([f[i] if len(f) == width else None for _, f in records], pa.string())
            for i, name in enumerate(names)
            if name != "-"
        }
    if errors:  # lines that split into no fields: records of width -1, in file order
        numbers = pa.concat_arrays([numbers, pa.array([k for k, _ in errors], pa.int64())])
        found_width = pa.concat_arrays([found_width, pa.array([-1] * len(errors), pa.int64())])
        raw = {k: pa.concat_arrays([v, pa.nulls(len(errors), pa.string())]) for k, v in raw.items()}
        order = pc.sort_indices(numbers)
        numbers, found_width = numbers.take(order), found_width.take(order)
        raw = {k: v.take(order) for k, v in raw.items()}
    return cand_lines, cand_numbers, numbers, found_width, raw, errors


def _reject_reasons(
    problems: list[tuple[pa.Array, str | None]],
    masks: list[np.ndarray],
    bad_np: np.ndarray,
    found_width: pa.Array,
    numbers: pa.Array,
    width: int,
    parse_reason: dict[int, str],
    odd_at: dict[int, int],
) -> dict[int, str]:
    """Record index -> reason: the first problem of each bad record (the order of ``problems``);
    a record of the wrong width says what the line looked like (an unclosed quote first)."""
    widths_np = found_width.to_numpy()
    numbers_np = numbers.to_numpy()
    for i in np.nonzero(widths_np != width)[0].tolist():
        k = int(numbers_np[i])
        if k not in parse_reason and odd_at.get(k):
            parse_reason[k] = (
                "a quoted field is not closed before the end of the line (a line cut short?)"
            )
    reason_of: dict[int, str] = {}
    for i in np.nonzero(bad_np)[0].tolist():
        for (_, text), mask in zip(problems, masks, strict=True):
            if mask[i]:
                reason_of[i] = text or _width_reason(
                    width, int(widths_np[i]), parse_reason.get(int(numbers_np[i]))
                )
                break
    return reason_of


def read_interval(
    cfg: VigieConfig, source: AsteriskCdrCsvSource, night: NightInterval, pseudo: Pseudonymiser
) -> ExtractResult:
    files = resolve_files(source.id, cfg.path(source.path), "Master.csv")
    path = files[-1] if len(files) == 1 else None
    if path is None:
        raise SourceUnavailable(
            f"source {source.id!r}: 'path' matches {len(files)} files "
            f"({', '.join(p.name for p in files[:5])}...); point it at Master.csv only "
            f"(accountlogs=yes copies every record into <accountcode>.csv)"
        )
    head = _head_lines(source.id, path)
    first_records, head_errors = parse_lines(head, list(range(1, len(head) + 1)))
    if not first_records:
        if head_errors:
            raise SourceUnavailable(
                f"source {source.id!r}: none of the first {len(head)} lines of {str(path)!r} "
                f"splits into columns (line {head_errors[0][0]}: {head_errors[0][1]}); is this "
                f"Asterisk's Master.csv?"
            )
        return ExtractResult(tables={TABLE: None}, meta={"file": path.name, "lines": 0})
    names = _layout(source, path, first_records)
    width = len(names)
    _check_start_column(source, path, names, first_records)
    # Layout detection samples the lines that split into fields and says which it skipped.
    layout_skipped = [n for n, _ in head_errors][:20]
    window = _candidate_window(night, source.timezone, names)
    # Saved positions (file_positions): read only the bytes whose lines can fall in the window.
    spath = state_path(cfg.path(cfg.outputs.landing), source.id)
    key = first_line_key(path) if source.incremental else None
    previous = load_state(spath).get(key) if key else None
    offset, line_base, stop = read_window(path, previous, *window)
    all_lines, starts = read_lines_from(source.id, path, offset, stop)
    anchors = _line_anchors(all_lines)
    if key and anchors is not None and starts is not None and stop is None:
        save_state(spath, {key: learn_positions(path, anchors, starts, line_base, previous, offset)})
    cand_lines, cand_numbers = _candidate_lines(all_lines, anchors, window, line_base)
    every_line, every_number = cand_lines, cand_numbers
    cand_lines, cand_numbers, numbers, found_width, raw, errors = _split_records(
        cand_lines, cand_numbers, names
    )
    n = len(numbers)
    parse_reason = dict(errors)
    if n == 0:
        return ExtractResult(
            tables={TABLE: None},
            meta={"file": path.name, "columns": width, "lines_read": len(all_lines)},
        )

    # Column arrays (null for an empty field, and for every field of a record of the wrong
    # width: it becomes a reject below).
    width_ok = pc.equal(found_width, width)
    cols: dict[str, pa.Array] = {
        name: pc.if_else(pc.and_(width_ok, pc.not_equal(v, "")), v, None) for name, v in raw.items()
    }
    for name in ("answer", "end", "duration", "billsec"):  # a custom mapping may leave them out
        cols.setdefault(name, pa.nulls(n, pa.string()))

    start = _timestamps(cols["start"], source.timezone)
    answer = _timestamps(cols["answer"], source.timezone)
    end = _timestamps(cols["end"], source.timezone)
    duration = pc.if_else(
        pc.match_substring_regex(cols["duration"], r"^\d{1,12}$"), cols["duration"], None
    ).cast(pa.int64())
    billsec = pc.if_else(
        pc.match_substring_regex(cols["billsec"], r"^\d{1,12}$"), cols["billsec"], None
    ).cast(pa.int64())

    pos = {name: f"column {i + 1}" for i, name in enumerate(names)}
    problems = [
        (pc.invert(width_ok), None),
        (pc.is_null(start), f"start ({pos['start']}) is not a 'YYYY-MM-DD HH:MM:SS' timestamp"),
        (
            pc.and_(pc.is_valid(cols["answer"]), pc.is_null(answer)),
            f"answer ({pos.get('answer')}) is neither empty nor a 'YYYY-MM-DD HH:MM:SS' timestamp",
        ),
        (
            pc.and_(pc.is_valid(cols["end"]), pc.is_null(end)),
            f"end ({pos.get('end')}) is neither empty nor a 'YYYY-MM-DD HH:MM:SS' timestamp",
        ),
    ]
    if "duration" in pos:
        problems.append(
            (pc.is_null(duration), f"duration ({pos['duration']}) is not a whole number of seconds")
        )
    if "billsec" in pos:
        problems.append(
            (pc.is_null(billsec), f"billsec ({pos['billsec']}) is not a whole number of seconds")
        )
    # The first problem of a record is its reason (same order as the checks above).
    masks = [np.asarray(m.fill_null(False).to_numpy(zero_copy_only=False)) for m, _ in problems]
    bad_np = np.logical_or.reduce(masks)
    odd_quotes = pc.bit_wise_and(pc.count_substring(cand_lines, '"'), 1).to_numpy()
    odd_at = dict(zip(cand_numbers.to_pylist(), odd_quotes.tolist(), strict=True))
    reason_of = _reject_reasons(problems, masks, bad_np, found_width, numbers, width, parse_reason, odd_at)
    bad = pa.array(bad_np, pa.bool_())
    lines = numbers

    # A bad record belongs to the night of the nearest earlier good record (else the next one;
    # with none in the window, to the night of its own line's first timestamp, the rough time
    # that selected it: a quiet night whose only record is damaged lands that reject).
    anchor = pc.if_else(bad, pa.scalar(None, TS), start)
    anchor = pc.fill_null_backward(pc.fill_null_forward(anchor))
    if anchor.null_count:
        rough = _rough_starts(every_line, every_number, numbers, source.timezone)
        anchor = pc.coalesce(anchor, rough)
    lo = pa.scalar(night.start_utc, TS)
    hi = pa.scalar(night.end_utc, TS)
    in_night = pc.and_(pc.greater_equal(anchor, lo), pc.less(anchor, hi))
    keep = pc.and_(pc.invert(bad), in_night)
    in_night_np = in_night.to_numpy(zero_copy_only=False)
    lines_np = lines.to_numpy()
    rejects = [
        Reject(TABLE, path.name, f"line {int(lines_np[i])}", reason)
        for i, reason in sorted(reason_of.items())
        if in_night_np[i]
    ]

    def whole(name: str) -> pa.Array:
        """A column of whole numbers (null when the layout lacks it or a value is none)."""
        values = col(name)
        return pc.if_else(pc.match_substring_regex(values, r"^\d{1,18}$"), values, None).cast(
            pa.int64()
        )

    def col(name: str) -> pa.Array:
        values = cols.get(name)
        if values is None:
            return pa.nulls(int(pc.sum(keep).as_py() or 0), pa.string())
        return values.filter(keep)

    table = pa.table(
        {
            "source_file": pa.array([path.name] * n, pa.string()).filter(keep),
            "source_line": lines.filter(keep),
            "accountcode": col("accountcode"),
            "src_key": pseudo.phone_array(col("src")),
            "dst_key": pseudo.phone_array(col("dst")),
            "dcontext": col("dcontext"),
            "channel": pa.array([mask_channel(v) for v in col("channel").to_pylist()], pa.string()),
            "dstchannel": pa.array(
                [mask_channel(v) for v in col("dstchannel").to_pylist()], pa.string()
            ),
            "lastapp": col("lastapp"),
            "start_at": start.filter(keep),
            "answer_at": answer.filter(keep),
            "end_at": end.filter(keep),
            "duration": duration.filter(keep),
            "billsec": billsec.filter(keep),
            "disposition": col("disposition"),
            "amaflags": col("amaflags"),
            "uniqueid": col("uniqueid"),
            "linkedid": col("linkedid"),
            "sequence": whole("sequence"),
        }
    )
    log.info(
        "%s: %s has %d record(s) of %d columns; %d leg(s) in %s, %d reject(s)",
        source.id, path.name, n, width, table.num_rows, night.day, len(rejects),
    )  # fmt: skip
    meta = {
        "file": path.name,
        "columns": width,
        "layout_skipped_lines": layout_skipped,
        "layout": list(names),
        "lines": line_base + len(all_lines),
        "lines_read": len(all_lines),
        "start_offset": offset,
        "stop_offset": -1 if stop is None else stop,
    }
    return ExtractResult(tables={TABLE: table}, rejects=rejects, meta=meta)
