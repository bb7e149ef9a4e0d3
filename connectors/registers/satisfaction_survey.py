"""A satisfaction survey export (one row per survey sent) -> ``survey_responses``.

Same reading rules and snapshot semantics as the courrier register
(:mod:`connectors.registers.request_register`): each night lands every survey sent in
[D+1 00:00 - lookback_days, D+1 00:00); an answer dated at or after D+1 00:00 is not known yet
(score and answer date left out). An empty score is a survey never answered (it counts in the
response rate's denominator only). Scores use the source's ``scale`` (10 by default, the
Services Publics+ reading) and may carry a decimal comma (``7,5``); a score outside [0, scale]
or not a number is a reject with its line number. The survey's link to a request
(``request_ref``, e.g. ``GLPI-123`` or a register id) or its own service/channel columns say
whom it is about; no respondent identity is read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from connectors.landing import ExtractResult, Reject
from connectors.landing_schemas import TABLES_BY_SOURCE_TYPE
from connectors.pseudonymise import Pseudonymiser
from connectors.registers.request_register import identified_records, source_zone
from connectors.registers.tabular import cell_text, is_blank, parse_decimal, parse_instant
from vigie.config import SatisfactionSurveySource, VigieConfig
from vigie.intervals import NightInterval

TABLE = "survey_responses"
SCHEMA = TABLES_BY_SOURCE_TYPE["satisfaction_survey"][TABLE]


def read_interval(
    cfg: VigieConfig, source: SatisfactionSurveySource, night: NightInterval, pseudo: Pseudonymiser
) -> ExtractResult:
    """The surveys sent before the night's end, with the answers known by then."""
    del pseudo  # nothing identifying is read
    tz = source_zone(cfg, source)
    cols = source.columns
    earliest = night.end - dt.timedelta(days=source.lookback_days)
    rows: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    counts = {"read": 0, "sent_after_night": 0, "before_lookback": 0, "answers_after_night": 0}
    for item in identified_records(cfg, source, TABLE, cols.response_id, "survey id", rejects, counts):
        table, record, response_id, reject = item.file, item.record, item.record_id, item.reject
        cells = record.cells
        try:
            if is_blank(cells.get(cols.sent_at)):
                raise ValueError("empty")
            sent_at = parse_instant(cells.get(cols.sent_at), tz)
        except ValueError as exc:
            reject(f"column {cols.sent_at!r}: {exc}")
            continue
        answered_at = None
        raw_answered = cells.get(cols.answered_at) if cols.answered_at else None
        if not is_blank(raw_answered):
            try:
                answered_at = parse_instant(raw_answered, tz, end_of_day=True)
            except ValueError as exc:
                reject(f"column {cols.answered_at!r}: {exc}")
                continue
        score = None
        raw_score = cells.get(cols.score)
        if not is_blank(raw_score):
            try:
                score = parse_decimal(raw_score)
            except ValueError as exc:
                reject(f"column {cols.score!r}: {exc}")
                continue
            if not 0 <= score <= source.scale:
                reject(f"column {cols.score!r}: score outside 0-{source.scale}")
                continue
        item.keep()
        if sent_at >= night.end:
            counts["sent_after_night"] += 1
            continue
        if sent_at < earliest:
            counts["before_lookback"] += 1
            continue
        if answered_at is not None and answered_at >= night.end:
            answered_at, score = None, None
            counts["answers_after_night"] += 1
        if score is not None and answered_at is None:
            answered_at = sent_at  # a score without an answer date: answered when sent
        service_value = cell_text(cells.get(cols.service)) if cols.service else None
        channel_value = cell_text(cells.get(cols.channel)) if cols.channel else None
        rows.append({
            "source_id": source.id,
            "source_file": table.path.name,
            "source_line": record.line,
            "response_id": response_id,
            "request_ref": cell_text(cells.get(cols.request_ref)) if cols.request_ref else None,
            "sent_at": sent_at,
            "answered_at": answered_at,
            "score": score,
            "scale": source.scale,
            "service_code": source.services.get(service_value or ""),
            "channel": source.channels.get(channel_value or "", source.default_channel),
        })
    meta = {"timezone": tz.key, "scale": source.scale, "rows": counts}
    return ExtractResult(tables={TABLE: pa.Table.from_pylist(rows, schema=SCHEMA)}, rejects=rejects, meta=meta)
