"""Saved read positions of a file-based queue_log source: ``<landing>/<source_id>/_state.json``.

Why: a queue_log grows for weeks and is rotated into several files; reading every byte of every
file each night costs seconds per 5 million lines and grows with history. The state lets a night
start reading each file at a saved position instead of at byte 0, without changing what the
batch holds (the batch of night D is still every event whose epoch lies in D, so a rerun of any
night gives identical bytes with or without state, and a late append is picked up by the rerun
of its night).

A checkpoint of a file is ``(threshold, offset, line_index, tail_sha)``: every line before byte
``offset`` has an anchor epoch (its own, else its neighbour's, as for rejects) below
``threshold`` (a UTC day start), so a night starting at ``S`` may skip those bytes when
``threshold <= S - overlap_seconds``. The overlap window (default 1 hour) is margin for lines
Asterisk writes slightly out of order. A checkpoint is used only if the file still holds the
same bytes before ``offset`` (``tail_sha`` = SHA-256 of the 64 bytes before it, and the file is
at least ``offset`` long): a truncated (``copytruncate``) or replaced file fails the check and
is read from byte 0. Files are recognised by the SHA-256 of their first line, not by name, so a
rotation (``queue_log`` -> ``queue_log.1``) keeps its checkpoints. A file whose recorded size and
last 64 bytes are unchanged and whose events all lie before ``S - overlap`` or at/after the
night's end is skipped entirely (old rotated files, ``.gz`` included).

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
from typing import Any

STATE_FILE = "_state.json"
STATE_VERSION = 1
TAIL_BYTES = 64
DAY_SECONDS = 86_400


def state_path(landing_root: Path, source_id: str) -> Path:
    return Path(landing_root) / source_id / STATE_FILE


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


def tail_sha(path: Path, end: int) -> str:
    """SHA-256 of the (up to) 64 raw bytes before ``end`` (of the file as stored on disk)."""
    start = max(0, end - TAIL_BYTES)
    with open(path, "rb") as fh:
        fh.seek(start)
        return _sha(fh.read(end - start))


@dataclass
class FileState:
    """What one read taught about a file (identified by its first line)."""

    size: int  # on-disk size when read
    end_tail: str  # tail_sha(path, size)
    min_anchor: int | None
    max_anchor: int | None
    checkpoints: list[tuple[int, int, int, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "end_tail": self.end_tail,
            "min_anchor": self.min_anchor,
            "max_anchor": self.max_anchor,
            "checkpoints": [list(c) for c in self.checkpoints],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileState:
        return cls(
            size=int(data["size"]),
            end_tail=str(data["end_tail"]),
            min_anchor=data.get("min_anchor"),
            max_anchor=data.get("max_anchor"),
            checkpoints=[tuple(c) for c in data.get("checkpoints", [])],  # type: ignore[misc]
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
