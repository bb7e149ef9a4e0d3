"""A courrier register (or any other tool's export) with one row per request -> ``register_requests``.

A register is a whole-file export of the current state (a letter answered on 3 Dec gets its
« Date de réponse » filled in the same row), like GLPI's tables. So each night's batch is a
**snapshot**: every row received in [D+1 00:00 - lookback_days, D+1 00:00), with any instant at
or after D+1 00:00 left out (not known on night D: a backfill never sees the future), and
staging reads only the latest batch of each source (a row removed from the register leaves).

Columns are mapped by their header text in the configuration (``columns``); the channel and
service cell values are mapped through ``channels`` / ``services`` (unknown or blank values
fall back to ``default_channel`` / ``default_service``; the cell value is landed beside the
mapped code so a check can list unmapped values). The requester column, when mapped, is landed
only as a keyed HMAC (``pseudo.key('register_requester', <normalised text>)``): the name or
address of the sender never leaves the connector; subject or object columns are never read.

A bad row becomes a reject with its line (CSV) or row (XLSX) number and a reason that does not
quote the cell: no request id, a receipt date that is missing or not a date, another mapped
date that is not a date, a request id seen earlier in the same export, extra cells.
"""

from __future__ import annotations

import datetime as dt
import glob
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.landing import ExtractResult, Reject
from connectors.landing_schemas import TABLES_BY_SOURCE_TYPE
from connectors.pseudonymise import Pseudonymiser
from connectors.registers.tabular import (
    BROKEN,
    EXTRA,
    Record,
    TableFile,
    TableLayoutError,
    cell_text,
    is_blank,
    parse_instant,
    read_table_file,
    require_columns,
)
from vigie.config import RequestRegisterSource, SatisfactionSurveySource, VigieConfig
from vigie.intervals import NightInterval

TABLE = "register_requests"
SCHEMA = TABLES_BY_SOURCE_TYPE["request_register"][TABLE]
_DATE_FIELDS = ("acknowledged_at", "first_response_at", "resolved_at")


def export_files(cfg: VigieConfig, source: RequestRegisterSource | SatisfactionSurveySource) -> list[Path]:
    """The export files of a source (``path`` is a file or a glob), sorted by name; none = loud."""
    pattern = cfg.path(source.path)
    files = sorted(Path(p) for p in glob.glob(str(pattern)) if Path(p).is_file())
    if not files:
        raise TableLayoutError(
            f"source {source.id!r}: no export file matches {str(pattern)!r}; check "
            f"sources[{source.id}].path (relative paths resolve against the configuration file)"
        )
    return files


def read_exports(
    cfg: VigieConfig, source: RequestRegisterSource | SatisfactionSurveySource
) -> list[TableFile]:
    tables = []
    for path in export_files(cfg, source):
        table = read_table_file(path, source.encoding, source.delimiter, source.sheet)
        wanted = {k: v for k, v in source.columns.model_dump().items() if v is not None}
        require_columns(table, wanted, source.id)
        tables.append(table)
    return tables


@dataclass
class IdentifiedRecord:
    """A record of an export that has an id not yet kept in its file."""

    file: TableFile
    record: Record
    record_id: str
    reject: Callable[[str], None]  # this record to the rejects, with its position and a reason
    keep: Callable[[], None]  # the id is taken: a later record with it is a repeat


def identified_records(
    cfg: VigieConfig,
    source: RequestRegisterSource | SatisfactionSurveySource,
    table_name: str,
    id_column: str,
    what: str,
    rejects: list[Reject],
    counts: dict[str, int],
) -> Iterator[IdentifiedRecord]:
    """Every record of the source's exports with an id (``what``: "request id", "survey id")
    not already kept in the same file; the others become rejects: cells beyond the header, no
    id, an id repeated. Why ``keep`` is the caller's: a record rejected later (a bad date) does
    not take its id, so a corrected copy further down the file still lands."""
    for table in read_exports(cfg, source):
        kept: dict[str, int] = {}
        for record in table.records:
            counts["read"] += 1

            def reject(reason: str, _record: Record = record, _name: str = table.path.name) -> None:
                rejects.append(Reject(table_name, _name, _record.position, reason))

            if BROKEN in record.cells:
                reject(record.cells[BROKEN])
                continue
            if EXTRA in record.cells:
                reject(f"{record.cells[EXTRA]} cell(s) beyond the header's columns")
                continue
            record_id = cell_text(record.cells.get(id_column))
            if record_id is None:
                reject(f"no {what} (column {id_column!r} is empty)")
                continue
            if record_id in kept:
                reject(f"{what} already on line/row {kept[record_id]} of this export")
                continue

            keep = partial(kept.__setitem__, record_id, record.line)
            yield IdentifiedRecord(table, record, record_id, reject, keep)


def source_zone(cfg: VigieConfig, source: RequestRegisterSource | SatisfactionSurveySource) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(source.timezone or cfg.collectivite.timezone)


def _normalise_requester(text: str) -> str:
    return " ".join(text.casefold().split())


def read_interval(
    cfg: VigieConfig, source: RequestRegisterSource, night: NightInterval, pseudo: Pseudonymiser
) -> ExtractResult:
    """The register's requests known as of the night's end (module docstring)."""
    tz = source_zone(cfg, source)
    cols = source.columns
    earliest = night.end - dt.timedelta(days=source.lookback_days)
    rows: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    counts = {"read": 0, "received_after_night": 0, "before_lookback": 0, "instants_after_night": 0}
    unmapped: dict[str, int] = {}
    complaint_values = {v.casefold() for v in source.complaint_values}
    for item in identified_records(cfg, source, TABLE, cols.request_id, "request id", rejects, counts):
        table, record, request_id, reject = item.file, item.record, item.record_id, item.reject
        cells = record.cells
        raw_received = cells.get(cols.received_at)
        if is_blank(raw_received):
            reject(f"no receipt date (column {cols.received_at!r} is empty)")
            continue
        try:
            received_at = parse_instant(raw_received, tz)
        except ValueError as exc:
            reject(f"column {cols.received_at!r}: {exc}")
            continue
        instants: dict[str, Any] = {}
        bad = None
        for field in _DATE_FIELDS:
            header = getattr(cols, field)
            value = None if header is None else cells.get(header)
            if is_blank(value):
                instants[field] = None
                continue
            try:
                instants[field] = parse_instant(value, tz, end_of_day=True)
            except ValueError as exc:
                bad = f"column {header!r}: {exc}"
                break
        if bad is not None:
            reject(bad)
            continue
        item.keep()
        if received_at >= night.end:
            counts["received_after_night"] += 1
            continue
        if received_at < earliest:
            counts["before_lookback"] += 1
            continue
        for field, value in instants.items():
            if value is not None and value >= night.end:
                instants[field] = None  # not known on night D
                counts["instants_after_night"] += 1
        channel_value = cell_text(cells.get(cols.channel)) if cols.channel else None
        channel = source.channels.get(channel_value or "", source.default_channel)
        service_value = cell_text(cells.get(cols.service)) if cols.service else None
        service_code = source.services.get(service_value or "", source.default_service)
        if service_value is not None and service_value not in source.services:
            unmapped[service_value] = unmapped.get(service_value, 0) + 1
        category = cell_text(cells.get(cols.category)) if cols.category else None
        requester = cell_text(cells.get(cols.requester)) if cols.requester else None
        rows.append({
            "source_id": source.id,
            "source_file": table.path.name,
            "source_line": record.line,
            "request_id": request_id,
            "received_at": received_at,
            **instants,
            "channel": channel,
            "channel_value": channel_value,
            "service_code": service_code,
            "service_value": service_value,
            "category": category,
            "is_complaint": category is not None and category.casefold() in complaint_values,
            "status": cell_text(cells.get(cols.status)) if cols.status else None,
            "requester_key": (
                pseudo.key("register_requester", _normalise_requester(requester))
                if requester else None
            ),
        })
    meta = {
        "timezone": tz.key,
        "lookback_days": source.lookback_days,
        "rows": counts,
        "unmapped_service_values": len(unmapped),
    }
    return ExtractResult(tables={TABLE: pa.Table.from_pylist(rows, schema=SCHEMA)}, rejects=rejects, meta=meta)
