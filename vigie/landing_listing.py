"""The list of landed batch files that dbt's on-run-start hook copies (macros/sync_landing.sql).

The hook needs, every night, every file of ``DBT_BATCH_GLOB`` (``<landing>/*/day=*/*.parquet``)
with its size and modification time, to copy the new or changed files and drop the rows of the
files gone. DuckDB's ``read_blob`` over that glob opens every file of the whole history: at
three years of demo landing (16,454 files) the hook took 4.5–4.9 s a night, growing with history
(issue 16).

Here the listing is kept beside the warehouse (``landing_listing.parquet``) with, for each file,
its batch directory and that directory's inode and modification time. A night lists the source
directories and their ``day=*`` directories (one ``stat`` per batch, not per file) and lists the
files again only in a batch directory that is new or whose inode or modification time changed.

Why a directory's (inode, modification time) tells whether its files changed: the landing
writes a batch into a hidden temporary directory and renames it in place of the old one
(connectors/landing.py: a new directory, a new inode); a placeholder, a marker or any file
added, removed or replaced by rename inside a batch changes the directory's modification time;
retention renames the directory away before deleting it. A Parquet file rewritten in place
(truncated and rewritten under the same name, which nothing in Vigie does) would not be seen
until its directory changes; dbt run by hand without ``landing_listing`` (tests, ``dbt build``
in a shell) lists every file with ``read_blob`` as before.

The rows are what ``read_blob`` gives: the path as the glob spells it from the ``landing_root``
var, the size, and the modification time truncated to the microsecond, so switching from one
listing to the other reloads nothing.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

LISTING_FILE = "landing_listing.parquet"
SCHEMA = pa.schema([
    ("landing_table", pa.string()),
    ("filename", pa.string()),
    ("size", pa.int64()),
    ("last_modified", pa.timestamp("us", tz="UTC")),
    ("batch_dir", pa.string()),
    ("dir_inode", pa.int64()),
    ("dir_mtime_ns", pa.int64()),
])
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def listing_path(warehouse: Path) -> Path:
    """Where the listing of the warehouse's landing is kept: beside the warehouse file."""
    return Path(warehouse).parent / LISTING_FILE


def _previous(listing: Path) -> pa.Table:
    """The last listing written, or an empty one (first night, unreadable or older layout)."""
    try:
        table = pq.ParquetFile(listing).read()
        if table.schema.equals(SCHEMA):
            return table
    except (OSError, pa.ArrowInvalid):
        pass
    return SCHEMA.empty_table()


def _batch_dirs(root: str) -> list[tuple[str, int, int]]:
    """(path, inode, mtime_ns) of every ``<root>/*/day=*`` directory, as DuckDB's glob finds them."""
    found: list[tuple[str, int, int]] = []
    try:
        sources = [e for e in os.scandir(root) if e.is_dir()]
    except FileNotFoundError:
        return found
    for source in sources:
        with os.scandir(source.path) as entries:
            for entry in entries:
                if fnmatch.fnmatchcase(entry.name, "day=*") and entry.is_dir():
                    st = entry.stat()
                    found.append((f"{root}/{source.name}/{entry.name}", st.st_ino, st.st_mtime_ns))
    return found


def _files_of(batch_dir: str, inode: int, mtime_ns: int) -> list[tuple]:
    """The listing rows of one batch directory's ``*.parquet`` files."""
    rows = []
    with os.scandir(batch_dir) as entries:
        for entry in entries:
            if entry.name.endswith(".parquet") and entry.is_file():
                st = entry.stat()
                modified = _EPOCH + dt.timedelta(microseconds=st.st_mtime_ns // 1000)
                rows.append((entry.name[: -len(".parquet")], f"{batch_dir}/{entry.name}", st.st_size,
                             modified, batch_dir, inode, mtime_ns))
    return rows


def write_landing_listing(landing_root: str, listing: Path) -> Path:
    """List every landed batch file under ``landing_root`` into ``listing``; returns its path.

    ``landing_root`` is the string dbt gets as the ``landing_root`` var (the paths must be
    spelt as DuckDB's glob spells them). Only new or changed batch directories are read.
    """
    root = str(landing_root)
    previous = _previous(listing)
    known = set(zip(previous.column("batch_dir").to_pylist(), previous.column("dir_inode").to_pylist(),
                    previous.column("dir_mtime_ns").to_pylist(), strict=True))
    dirs = _batch_dirs(root)
    unchanged = [d[0] for d in dirs if d in known]
    kept = previous.filter(pc.is_in(previous.column("batch_dir"), pa.array(unchanged, pa.string())))
    rows = [row for d in dirs if d not in known for row in _files_of(*d)]
    fresh = pa.Table.from_pylist([dict(zip(SCHEMA.names, r, strict=True)) for r in rows], schema=SCHEMA)
    listing.parent.mkdir(parents=True, exist_ok=True)
    tmp = listing.with_name(f".{listing.name}.tmp")
    pq.write_table(pa.concat_tables([kept, fresh]), tmp)
    os.replace(tmp, listing)
    return listing
