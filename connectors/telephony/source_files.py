"""Find and read the files of a file-based source (shared by the Asterisk connectors).

Why an explicit order: Asterisk's log rotation renames ``queue_log`` to ``queue_log.1``,
``queue_log.1`` to ``queue_log.2``..., so the chronological stream is the highest number first
and the live file last (``queue_log.3, queue_log.2, queue_log.1, queue_log``). logrotate's
``dateext`` names (``queue_log-20261101``) sort by their date, before numbered files, before the
live file. A ``.gz`` suffix is read transparently.
"""

from __future__ import annotations

import glob
import gzip
import re
from pathlib import Path

from connectors.extract import SourceUnavailable

_DATE_SUFFIX = re.compile(r"[.-](\d{8})(\.gz)?$")
_NUM_SUFFIX = re.compile(r"\.(\d{1,4})(\.gz)?$")


def rotation_order_key(path: Path) -> tuple[int, int, str]:
    """Sort key giving the chronological order of rotated files (oldest first)."""
    name = path.name
    m = _DATE_SUFFIX.search(name)
    if m:
        return (0, int(m.group(1)), name)
    m = _NUM_SUFFIX.search(name)
    if m:
        return (1, -int(m.group(1)), name)
    return (2, 0, name)


def resolve_files(source_id: str, pattern: Path, what: str) -> list[Path]:
    """Files matching ``pattern`` (a path or a glob), oldest first; fail loudly if none."""
    matches = [Path(p) for p in glob.glob(str(pattern))]
    files = sorted((p for p in matches if p.is_file()), key=rotation_order_key)
    if not files:
        raise SourceUnavailable(
            f"source {source_id!r}: no {what} file matches {str(pattern)!r}; check the source's "
            f"'path' in the configuration (relative paths resolve against the configuration "
            f"file's directory) and that the Asterisk log directory is mounted and readable"
        )
    return files


def read_text(source_id: str, path: Path) -> str:
    """The file's text; bytes that are not UTF-8 become U+FFFD (never a crash: caller-id names
    hold arbitrary bytes, and the fields that carry them are dropped or hashed anyway)."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except OSError as exc:
        raise SourceUnavailable(
            f"source {source_id!r}: cannot read {str(path)!r}: {exc.strerror or exc}; check the "
            f"file's permissions for the user running Vigie"
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")
