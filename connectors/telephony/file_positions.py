"""Saved read positions of a file-based telephony source: ``<landing>/<source_id>/_state.json``.

Why: a queue_log grows for weeks and is rotated into several files, a ``Master.csv`` grows for
years; reading every byte of every file each night costs seconds per 5 million lines and grows
with history, and a backfill of N nights would read the whole history N times. The state lets a
night read each file only between two saved positions, without changing what the batch holds
(the batch of night D is still every record whose time lies in D, so a rerun of any night gives
identical bytes with or without state, and a late append is picked up by the rerun of its
night).

Each line of a file has an *anchor*: its own time in seconds (queue_log: the epoch; Master.csv:
the first timestamp of the record), else its nearest earlier (then later) neighbour's, as for
rejects. Two kinds of positions are learnt while reading a file up to its end:

- a *checkpoint* ``(threshold, offset, line_index, tail_sha)``: every line before byte ``offset``
  has an anchor below ``threshold`` (a UTC hour start), so a night whose lines start at ``S`` may
  skip those bytes when ``threshold <= S``;
- a *stop* ``(threshold, offset, line_index)``: every line from byte ``offset`` on has an anchor at
  or above ``threshold``, so a night whose lines end before ``E`` may stop reading there when
  ``threshold >= E``. A stop holds only for the bytes it was computed on: it is used only while
  the file is unchanged (same size and last 64 bytes); the live file that grew since is read to
  its end.

Both are learnt once per rise of the running maximum (checkpoints) or of the suffix minimum
(stops), so learning costs at most one position per line whatever the span of the anchors (an
absurd time beside real ones once cost an hour-by-hour walk since 1970; issue 17).

Callers widen ``[S, E)`` by their own margin (queue_log: ``overlap_seconds`` for lines Asterisk
writes slightly out of order; Master.csv: the 2 days of its candidate window). A checkpoint is
used only if the file still holds the same bytes before ``offset`` (``tail_sha`` = SHA-256 of the
64 bytes before it, and the file is at least ``offset`` long): a truncated (``copytruncate``) or
replaced file fails the check and is read from byte 0. Files are recognised by the SHA-256 of
their first line, not by name, so a rotation (``queue_log`` -> ``queue_log.1``) keeps its
positions. A file whose recorded size and last 64 bytes are unchanged and whose lines all lie
before ``S`` or at/after ``E`` is skipped entirely (old rotated files, ``.gz`` included).

Deduplication: the same line text found in two files (a rotated copy still present beside its
original, ``queue_log.1`` and ``queue_log.1.gz`` mid-compression, ``copy`` without truncate) is
one event; see ``asterisk_queue_log.dedup_across_files``.

The state is a cache: deleting it only makes the next night read whole files. It is written
atomically (temporary file + rename) after the batch has been read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from connectors.landing_layout import FILE_POSITIONS_FILE, source_state_path

STATE_VERSION = 2  # 2: stops added (a version-1 state is ignored: one full read)
TAIL_BYTES = 64
# One checkpoint and one stop per UTC hour start: a night then reads its 24 hours plus the
# callers' margins, not the whole day before and after it.
STEP_SECONDS = 3_600


def state_path(landing_root: Path, source_id: str) -> Path:
    return source_state_path(landing_root, source_id, FILE_POSITIONS_FILE)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def first_line_key(path: Path) -> str | None:
    """SHA-256 of the file's first line (decompressed for ``.gz``); None for an empty file or
    a first line not yet terminated (a file just created may still grow its first line)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        line = fh.readline(1 << 16)
    if not line.endswith(b"\n"):
        return None
    return _sha(line)


def _tail_sha_in(fh: BinaryIO, end: int) -> str:
    start = max(0, end - TAIL_BYTES)
    fh.seek(start)
    return _sha(fh.read(end - start))


def tail_sha(path: Path, end: int) -> str:
    """SHA-256 of the (up to) 64 raw bytes before ``end`` (of the file as stored on disk)."""
    with open(path, "rb") as fh:
        return _tail_sha_in(fh, end)


@dataclass
class FileState:
    """What one read taught about a file (identified by its first line)."""

    size: int  # on-disk size when read
    end_tail: str  # tail_sha(path, size)
    min_anchor: int | None
    max_anchor: int | None
    checkpoints: list[tuple[int, int, int, str]] = field(default_factory=list)
    stops: list[tuple[int, int, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "end_tail": self.end_tail,
            "min_anchor": self.min_anchor,
            "max_anchor": self.max_anchor,
            "checkpoints": [list(c) for c in self.checkpoints],
            "stops": [list(c) for c in self.stops],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileState:
        return cls(
            size=int(data["size"]),
            end_tail=str(data["end_tail"]),
            min_anchor=data.get("min_anchor"),
            max_anchor=data.get("max_anchor"),
            checkpoints=[tuple(c) for c in data.get("checkpoints", [])],
            stops=[tuple(c) for c in data.get("stops", [])],
        )


def load_state(path: Path) -> dict[str, FileState]:
    """Saved file states by first-line key; an unreadable or older-version state is ignored
    (the state is a cache: the night is then read from byte 0)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != STATE_VERSION:
            return {}
        return {k: FileState.from_json(v) for k, v in data.get("files", {}).items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def save_state(path: Path, files: dict[str, FileState]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "version": STATE_VERSION,
        "files": {k: files[k].to_json() for k in sorted(files)},
    }
    fd, tmp = tempfile.mkstemp(prefix=".state-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def unchanged(path: Path, st: FileState) -> bool:
    size = path.stat().st_size
    return size == st.size and tail_sha(path, size) == st.end_tail


def can_skip(path: Path, st: FileState, read_from: int, night_end: int) -> bool:
    """True when an unchanged file holds no line whose anchor lies in [read_from, night_end)."""
    if st.min_anchor is None or st.max_anchor is None or not unchanged(path, st):
        return False
    return st.max_anchor < read_from or st.min_anchor >= night_end


def best_checkpoint(path: Path, st: FileState, read_from: int) -> tuple[int, int]:
    """(byte offset, line index) to start reading a plain file at; (0, 0) if none is valid."""
    if path.suffix == ".gz":
        return 0, 0
    size = path.stat().st_size
    for threshold, offset, line_index, sha in sorted(st.checkpoints, reverse=True):
        if threshold <= read_from and offset <= size and tail_sha(path, offset) == sha:
            return int(offset), int(line_index)
    return 0, 0


def stop_before(path: Path, st: FileState, read_to: int) -> tuple[int, int] | None:
    """(byte offset, line index) where a read may stop because every later line's anchor is at
    or above ``read_to``; None when the file changed since ``st`` (read to its end)."""
    if path.suffix == ".gz" or not unchanged(path, st):
        return None
    for threshold, offset, line_index in sorted(st.stops):
        if threshold >= read_to:
            return int(offset), int(line_index)
    return None


def read_window(
    path: Path, st: FileState | None, read_from: int, read_to: int
) -> tuple[int, int, int | None]:
    """(start offset, line index there, stop offset or None for the end of the file) of the
    bytes holding every line whose anchor lies in [read_from, read_to); the whole file without
    a saved state. The one place both file connectors ask where to read."""
    if st is None:
        return 0, 0, None
    offset, line_index = best_checkpoint(path, st, read_from)
    bound = stop_before(path, st, read_to)
    stop = bound[0] if bound is not None and bound[0] > offset else None
    return offset, line_index, stop


def learn_positions(
    path: Path,
    anchor: pa.Array,
    starts: pa.Array | None,
    line_base: int,
    previous: FileState | None,
    offset: int,
) -> FileState:
    """File state after reading it from byte ``offset`` to its end: anchor range, one checkpoint
    per UTC hour start crossed (the first line from which every earlier line's anchor is below
    it) and one stop per UTC hour start (the first line from which every later line's anchor is
    at or above it). ``anchor`` holds every line read (nulls filled), ``starts`` the byte
    offset of each (None when offsets are not exact, e.g. bytes replaced: no positions)."""
    size = path.stat().st_size
    a = anchor.to_numpy(zero_copy_only=False)
    seg_min = int(a.min()) if len(a) else None
    seg_max = int(a.max()) if len(a) else None
    keep_old = previous is not None and offset > 0
    min_anchor = previous.min_anchor if keep_old and previous else seg_min
    max_anchor = seg_max
    if keep_old and previous and previous.max_anchor is not None:
        max_anchor = previous.max_anchor if seg_max is None else max(seg_max, previous.max_anchor)
    checkpoints = [c for c in previous.checkpoints if c[1] <= offset] if keep_old and previous else []
    # An older stop stays true if every line read now (all lines after it that changed) is at
    # or above its threshold.
    stops = (
        [c for c in previous.stops if c[1] <= offset and (seg_min is None or c[0] <= seg_min)]
        if keep_old and previous
        else []
    )
    if starts is not None and len(a) > 1:
        start_arr = starts.to_numpy()
        known = {c[0] for c in checkpoints}
        with open(path, "rb") as fh:  # one open for every new checkpoint's tail
            for threshold, i in _checkpoint_hours(a):
                if threshold not in known:
                    off = int(start_arr[i])
                    checkpoints.append((threshold, off, line_base + i, _tail_sha_in(fh, off)))
        known_stops = {c[0] for c in stops}
        for threshold, i in _stop_hours(a):
            if threshold not in known_stops:
                stops.append((threshold, int(start_arr[i]), line_base + i))
    return FileState(
        size=size,
        end_tail=tail_sha(path, size),
        min_anchor=min_anchor,
        max_anchor=max_anchor,
        checkpoints=sorted(checkpoints),
        stops=sorted(stops),
    )


def _checkpoint_hours(a: np.ndarray) -> list[tuple[int, int]]:
    """(hour start T, first line i from which the running maximum of anchors reaches T) for the
    smallest T of every rise of the running maximum (every line before i is below T).

    Why per rise and not per hour of the span: the work is bounded by the number of lines, not
    by the span of their anchors; a line with an absurd time (epoch ``7`` beside 2026) once made
    this loop walk every hour since 1970. Any larger T of the same rise would give the same
    line, and ``best_checkpoint`` takes the largest T at or before the read's start, so nothing
    is lost."""
    running_max = np.maximum.accumulate(a)
    rise = np.nonzero(running_max[1:] > running_max[:-1])[0] + 1
    hour = (running_max[rise - 1] // STEP_SECONDS + 1) * STEP_SECONDS
    ok = hour <= running_max[rise]
    return [(int(t), int(i)) for t, i in zip(hour[ok], rise[ok], strict=True)]


def _stop_hours(a: np.ndarray) -> list[tuple[int, int]]:
    """(hour start T, first line i from which every later anchor is at or above T) for the
    largest T of every rise of the suffix minimum; bounded by the number of lines like
    ``_checkpoint_hours`` (``stop_before`` takes the smallest T at or after the read's end)."""
    suffix_min = np.minimum.accumulate(a[::-1])[::-1]  # non-decreasing
    rise = np.nonzero(suffix_min[1:] > suffix_min[:-1])[0] + 1
    hour = (suffix_min[rise] // STEP_SECONDS) * STEP_SECONDS
    ok = hour > suffix_min[rise - 1]
    return [(int(t), int(i)) for t, i in zip(hour[ok], rise[ok], strict=True)]
