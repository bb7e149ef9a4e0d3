"""Land one extracted batch atomically: ``<landing>/<source_id>/day=YYYY-MM-DD/``.

A batch directory holds every table of the source type (``connectors.landing_schemas``; an
empty table is still written so that dbt always finds its file), ``rejects.parquet`` and
``_batch.json``. Why a directory swap: a rerun of a night must *replace* that night's batch,
never append a copy, and a reader (dbt, a BI tool) must never see half a batch. The batch is
written to a hidden temporary directory beside the target (``.day=YYYY-MM-DD.tmp-<random>``,
same file system, so ``os.rename`` is atomic; the leading dot keeps it out of the ``day=*``
globs of the staging models), every file is fsynced, then the old batch is renamed aside, the
new one renamed in, and the old one deleted.

Tables are cast to the contract schemas here, once, so a connector that produced a wrong
column fails loudly with the table and column named, instead of landing a file that breaks dbt
three steps later.

Rejects hold no raw record content (it may contain a phone number or a name): only the table,
the source file, the position in it (``line 12``) and a reason written by the connector.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.landing_layout import BATCH_FILE, batch_dir
from connectors.landing_schemas import REJECTS, REJECTS_TABLE, TABLES_BY_SOURCE_TYPE

log = logging.getLogger(__name__)


class LandingSchemaError(ValueError):
    """A connector produced a table that does not match the landing contract."""


@dataclass(frozen=True)
class Reject:
    table_name: str
    source_file: str
    source_position: str  # 'line 12', 'row 3', 'message 1700000000.M1P2.host'
    reason: str  # written by the connector; never the raw record


@dataclass(frozen=True)
class ExtractResult:
    tables: dict[str, pa.Table]
    rejects: list[Reject] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LandedBatch:
    source_id: str
    day: dt.date
    path: Path
    row_counts: dict[str, int]
    reject_count: int


def conform(table_name: str, schema: pa.Schema, table: pa.Table | None, source_id: str) -> pa.Table:
    """Cast ``table`` to ``schema`` (column order, types); fill ``source_id``; fail loudly."""
    if table is None:
        return schema.empty_table()
    names = set(table.column_names)
    expected = [f.name for f in schema]
    unknown = [n for n in table.column_names if n not in expected]
    if unknown:
        raise LandingSchemaError(
            f"table {table_name!r}: column(s) {unknown} are not in the landing contract "
            f"(connectors/landing_schemas.py expects {expected})"
        )
    missing = [n for n in expected if n not in names and n != "source_id"]
    if missing:
        raise LandingSchemaError(
            f"table {table_name!r}: column(s) {missing} missing (the landing contract expects {expected})"
        )
    columns = []
    for f in schema:
        if f.name == "source_id" and "source_id" not in names:
            columns.append(pa.array([source_id] * table.num_rows, type=f.type))
            continue
        col = table.column(f.name)
        if (
            pa.types.is_timestamp(f.type)
            and pa.types.is_timestamp(col.type)
            and col.type.tz is None
        ):
            raise LandingSchemaError(
                f"table {table_name!r}, column {f.name!r}: naive timestamps; the contract holds "
                f"UTC instants, convert them in the connector (the source's zone is known there)"
            )
        if not col.type.equals(f.type):
            try:
                col = col.cast(f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                raise LandingSchemaError(
                    f"table {table_name!r}, column {f.name!r}: cannot cast {col.type} to {f.type}: {exc}"
                ) from None
        if not f.nullable and col.null_count:
            raise LandingSchemaError(
                f"table {table_name!r}, column {f.name!r}: {col.null_count} null value(s) in a non-nullable column"
            )
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=schema)


def rejects_table(source_id: str, rejects: list[Reject]) -> pa.Table:
    return pa.Table.from_pydict(
        {
            "source_id": [source_id] * len(rejects),
            "table_name": [r.table_name for r in rejects],
            "source_file": [r.source_file for r in rejects],
            "source_position": [r.source_position for r in rejects],
            "reason": [r.reason for r in rejects],
        },
        schema=REJECTS,
    )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_parquet(table: pa.Table, path: Path) -> None:
    # Fixed options so identical inputs give identical bytes on every rerun.
    pq.write_table(table, path, compression="zstd", write_statistics=True)
    _fsync(path)


def _remove_leftovers(parent: Path, name: str) -> None:
    """Delete temporary/old directories left by a crashed earlier run of this batch."""
    for stale in parent.glob(f".{name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in parent.glob(f".{name}.old-*"):
        shutil.rmtree(stale, ignore_errors=True)


def land_batch(
    landing_root: Path, source_id: str, source_type: str, day: dt.date, result: ExtractResult
) -> LandedBatch:
    """Write the batch of (source, day) and swap it in place of any earlier one."""
    if source_type not in TABLES_BY_SOURCE_TYPE:
        raise LandingSchemaError(
            f"unknown source type {source_type!r}; expected one of {sorted(TABLES_BY_SOURCE_TYPE)}"
        )
    contract = TABLES_BY_SOURCE_TYPE[source_type]
    extra = sorted(set(result.tables) - set(contract))
    if extra:
        raise LandingSchemaError(
            f"source type {source_type!r} lands tables {sorted(contract)}, not {extra}"
        )
    tables = {
        name: conform(name, schema, result.tables.get(name), source_id)
        for name, schema in contract.items()
    }
    rejects = rejects_table(source_id, result.rejects)

    target = batch_dir(landing_root, source_id, day)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(parent, target.name)
    tmp = parent / f".{target.name}.tmp-{secrets.token_hex(6)}"
    tmp.mkdir()
    try:
        for name, table in tables.items():
            _write_parquet(table, tmp / f"{name}.parquet")
        _write_parquet(rejects, tmp / f"{REJECTS_TABLE}.parquet")
        row_counts = {name: t.num_rows for name, t in tables.items()}
        info = {
            "source_id": source_id,
            "source_type": source_type,
            "day": day.isoformat(),
            "row_counts": row_counts,
            "reject_count": rejects.num_rows,
            "meta": result.meta,
            "extracted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        (tmp / BATCH_FILE).write_text(
            json.dumps(info, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
        )
        _fsync(tmp / BATCH_FILE)
        _fsync(tmp)
        old = None
        if target.exists():
            old = parent / f".{target.name}.old-{secrets.token_hex(6)}"
            os.rename(target, old)
        os.rename(tmp, target)
        _fsync(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    log.info(
        "landed %s day=%s: %s, %d reject(s) -> %s",
        source_id,
        day,
        ", ".join(f"{n}={c}" for n, c in row_counts.items()),
        rejects.num_rows,
        target,
    )
    return LandedBatch(
        source_id=source_id,
        day=day,
        path=target,
        row_counts=row_counts,
        reject_count=rejects.num_rows,
    )
