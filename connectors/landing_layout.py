"""The landing area's layout, in one place: where batches, markers and state files live.

Every reader and writer of the landing folder goes through this module (the extract, the
transform's empty placeholders, the checks, the data team's markers, retention's deletions);
dbt's two readers (macros/landing_scan.sql, int_source_day_markers.sql) glob the same paths,
and tests/connectors/test_landing_layout.py holds them to ``DBT_BATCH_GLOB`` and
``DBT_MARKER_GLOB``. Why one module: the layout is a contract between Python and SQL, and a
path spelt in five places drifts (a purge that misses a directory the staging models read, a
marker the completeness model never sees).

::

    <landing>/
      <source_id>/                     one directory per configured source
        day=YYYY-MM-DD/                one night's batch (hive partition `day`)
          <table>.parquet              every table of the source type, empty ones too
          rejects.parquet, _batch.json
          _FAILED.json                 the extract of that night failed (or declared down)
          _CONFIRMED.json              the data team confirmed the day is complete
        .day=D.tmp-*, .day=D.old-*     an atomic landing's work directories (hidden)
        .purge-day=D-*                 a retention deletion under way (hidden)
        _state.json, _imap_state.json, _watch.json   the source's read state, never purged
      _empty/day=1900-01-01/<table>.parquet   typed empty placeholder per table
      _nights/day=D.json               night D's warehouse steps ran once

A directory whose name starts with ``_`` or ``.`` is never a source; a batch directory is
exactly ``day=YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vigie.config import VigieConfig

BATCH_FILE = "_batch.json"
FAILED_FILE = "_FAILED.json"
CONFIRMED_FILE = "_CONFIRMED.json"
# Per-source read state (connectors.telephony.file_positions, connectors.email.imap,
# vigie.export_watch): beside the batches, never purged.
FILE_POSITIONS_FILE = "_state.json"
IMAP_STATE_FILE = "_imap_state.json"
WATCH_FILE = "_watch.json"
EMPTY_SOURCE_DIR = "_empty"
EMPTY_DAY = dt.date(1900, 1, 1)
NIGHTS_DIR = "_nights"
PURGE_PREFIX = ".purge-"
# What dbt globs, ``{root}`` being the var landing_root: every source's batch of one table, and
# the markers beside them (``{marker}``: FAILED_FILE or CONFIRMED_FILE).
DBT_BATCH_GLOB = "{root}/*/day=*/{table}.parquet"
DBT_MARKER_GLOB = "{root}/*/day=*/{marker}"
_DAY_DIR = re.compile(r"^day=(\d{4}-\d{2}-\d{2})$")


def landing_root(cfg: VigieConfig) -> Path:
    """The configured landing folder (``outputs.landing``), resolved against the config file."""
    return cfg.path(cfg.outputs.landing)


def source_dir(root: Path, source_id: str) -> Path:
    return Path(root) / source_id


def batch_dir(root: Path, source_id: str, day: dt.date) -> Path:
    """``<landing>/<source_id>/day=YYYY-MM-DD``: night ``day``'s batch of one source."""
    return source_dir(root, source_id) / f"day={day.isoformat()}"


def source_state_path(root: Path, source_id: str, name: str) -> Path:
    """A source's read-state file (``FILE_POSITIONS_FILE``, ``IMAP_STATE_FILE``, ``WATCH_FILE``)."""
    return source_dir(root, source_id) / name


def is_source_dir(path: Path) -> bool:
    """A real source's directory: not a placeholder (``_empty``, ``_nights``), not hidden."""
    return path.is_dir() and not path.name.startswith(("_", "."))


def landed_batch_dirs(root: Path, up_to: dt.date) -> list[tuple[dt.date, Path]]:
    """(day, directory) of every landed batch of a real source with day <= up_to, sorted.

    The `_empty` placeholders and temp/aside directories of an atomic landing are skipped; later
    nights are ignored so that re-running an old night sees the landing as it was known then.
    """
    found = []
    root = Path(root)
    if root.is_dir():
        for sdir in sorted(root.iterdir()):
            if not is_source_dir(sdir):
                continue
            for part in sorted(sdir.iterdir()):
                m = _DAY_DIR.match(part.name)
                if m and part.is_dir():
                    day = dt.date.fromisoformat(m.group(1))
                    if day <= up_to:
                        found.append((day, part))
    return found


def newest_landed_day(root: Path) -> dt.date | None:
    """The latest ``day=`` of any real source's batch directory (None: nothing landed)."""
    days = [d for d, _ in landed_batch_dirs(root, dt.date.max)]
    return max(days) if days else None


def ensure_empty_landing_tables(root: Path) -> None:
    """One typed, empty Parquet file per landing table under `<landing>/_empty/day=1900-01-01/`.

    The staging models glob ``DBT_BATCH_GLOB`` (macros/landing_scan.sql): a site without GLPI,
    or a first night before any extract, still gets a well-typed empty relation instead of
    "No files found". Written atomically, and only when missing or stale.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from connectors.landing_schemas import ALL_TABLES, REJECTS, REJECTS_TABLE

    target = batch_dir(root, EMPTY_SOURCE_DIR, EMPTY_DAY)
    target.mkdir(parents=True, exist_ok=True)
    tables: dict[str, pa.Schema] = {**ALL_TABLES, REJECTS_TABLE: REJECTS}
    for name, schema in tables.items():
        path = target / f"{name}.parquet"
        if path.exists():
            try:
                if pq.read_schema(path).equals(schema, check_metadata=False):
                    continue
            except (OSError, pa.ArrowInvalid):
                pass
        tmp = path.with_suffix(".parquet.tmp")
        pq.write_table(schema.empty_table(), tmp)
        os.replace(tmp, path)


# -- small JSON notes: markers, built nights, read state ----------------------------------------
def write_json_atomic(path: Path, payload: dict[str, Any], *, ensure_ascii: bool = True) -> None:
    """Write a small state file so that a reader sees the old one or the new one, never half:
    a hidden temporary beside it, then ``os.replace``. The landing's notes (failure markers,
    built nights, watched exports) all go through here."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    text = json.dumps(payload, ensure_ascii=ensure_ascii, indent=2, sort_keys=True) + "\n"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_marker(root: Path, source_id: str, day: dt.date, name: str, info: dict[str, Any]) -> Path:
    """``<landing>/<source>/day=D/<name>`` (``FAILED_FILE`` or ``CONFIRMED_FILE``), atomically.

    A marker lives in the batch directory so that it travels with the batch: a later landing
    of D swaps the whole directory, and the marker goes with the data it was about."""
    marker = batch_dir(root, source_id, day) / name
    write_json_atomic(marker, info, ensure_ascii=False)
    return marker


def record_failed_extract(
    root: Path, source_id: str, source_type: str, day: dt.date, error: str
) -> Path | None:
    """Leave ``<landing>/<source>/day=D/_FAILED.json`` when night D of a source could not land.

    Why a file in the landing area: the night is then built without that source (DECISIONLOG
    Part 1 "Nights never mix"), and completeness must know the source day is missing because
    its extract failed, not because the day was quiet. A later successful landing swaps the
    whole ``day=D`` directory, so the marker disappears with no extra step. When a batch of D
    already landed (a rerun that failed), that batch stays and no marker is written: the data
    is still the data of night D, and the failure stays visible in Airflow.
    """
    target = batch_dir(root, source_id, day)
    if (target / BATCH_FILE).is_file():
        return None
    marker = target / FAILED_FILE
    info = {
        "source_id": source_id,
        "source_type": source_type,
        "day": day.isoformat(),
        "error": error[:2000],
        "failed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_json_atomic(marker, info)
    return marker


def failed_extract(root: Path, source_id: str, day: dt.date) -> dict[str, Any] | None:
    """The failure marker of (source, night), or None when the night landed or never failed."""
    marker = batch_dir(root, source_id, day) / FAILED_FILE
    if not marker.is_file():
        return None
    loaded: dict[str, Any] = json.loads(marker.read_text(encoding="utf-8"))
    return loaded


def _night_note(root: Path, day: dt.date) -> Path:
    return Path(root) / NIGHTS_DIR / f"day={day.isoformat()}.json"


def record_night_built(root: Path, day: dt.date) -> None:
    """Note that night D's warehouse steps ran once (``<landing>/_nights/day=D.json``).

    Why: a source that lands night D *after* D was built (a cleared task, a register dropped
    later) must rebuild D; the extract DAG reads this note to announce every family for D
    again (vigie.airflow_dags, DECISIONLOG Part 1 "Nights never mix")."""
    info = {"day": day.isoformat(), "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    write_json_atomic(_night_note(root, day), info)


def night_built(root: Path, day: dt.date) -> bool:
    return _night_note(root, day).is_file()


# -- retention's deletions ---------------------------------------------------------------------
def delete_batches_before(root: Path, cutoff: dt.date) -> list[Path]:
    """Delete every real source's batch of a day before ``cutoff``; return their paths.

    Each batch goes atomically: renamed to a hidden ``.purge-*`` name (out of the staging
    models' ``day=*`` glob), then deleted; a leftover of a crash is deleted first. Placeholders
    (``_empty``, ``_nights``) and the sources' state files are never touched. Which cutoff, and
    when a night may purge at all, is retention's policy (vigie/retention.py)."""
    remove_purge_leftovers(root)
    removed: list[Path] = []
    for _, batch in landed_batch_dirs(root, cutoff - dt.timedelta(days=1)):
        aside = batch.with_name(f"{PURGE_PREFIX}{batch.name}-{secrets.token_hex(4)}")
        os.rename(batch, aside)  # atomic: the batch leaves the day=* glob whole
        shutil.rmtree(aside)
        removed.append(batch)
    return removed


def remove_purge_leftovers(root: Path) -> None:
    """Delete ``.purge-*`` directories left by a purge interrupted between rename and delete."""
    root = Path(root)
    if not root.is_dir():
        return
    for sdir in root.iterdir():
        if sdir.is_dir() and not sdir.name.startswith("."):
            for leftover in sdir.glob(f"{PURGE_PREFIX}*"):
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
