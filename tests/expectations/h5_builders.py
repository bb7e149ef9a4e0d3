"""Small real artefacts for H5's tests: a configuration, landed batches, a marts warehouse.

The marts are built by dbt in production; here a temp DuckDB file gets ``marts.*`` tables with
exactly the contract columns of the marts' YAML and a handful of rows, so checks, alerts and
publish are tested against the real file format without running dbt.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.landing_schemas import REJECTS, TABLES_BY_SOURCE_TYPE
from vigie.config import VigieConfig, parse_config

UTC = dt.UTC

MARTS_DDL = {
    "requests": """
        request_id varchar, request_ref varchar, source_system varchar, channel varchar,
        service_code varchar, received_at timestamptz, first_response_at timestamptz,
        acknowledged_at timestamptz, resolved_at timestamptz, requester_key varchar,
        is_excluded boolean, exclusion_reason varchar""",
    "commitment_evaluations": """
        request_id varchar, request_ref varchar, commitment_id varchar, service_code varchar,
        channel varchar, received_at timestamptz, deadline_at timestamptz,
        responded_at timestamptz, elapsed_value double, elapsed_unit varchar, status varchar,
        exclusion_reason varchar, evaluated_as_of timestamptz""",
    "service_indicators": """
        period_grain varchar, period_start date, period_end date, service_code varchar,
        channel varchar, commitment_id varchar, indicator varchar, numerator bigint,
        denominator bigint, value double, target_value double, target_unit varchar,
        threshold double, min_volume integer, is_breached boolean, is_final boolean,
        evaluated_as_of timestamptz, is_complete boolean, completeness_note varchar""",
}

# The two quality models alerts read (dbt_project/models/intermediate/quality), schema
# ``intermediate``: incomplete source days (data-team notices) and the service/channel days
# they feed (items and breaches withheld).
INTERMEDIATE_DDL = {
    "int_source_day_completeness": """
        source_id varchar, source_type varchar, local_date date, row_count bigint,
        baseline_median double, baseline_days integer, is_missing boolean,
        is_low_volume boolean, is_complete boolean, completeness_note varchar""",
    "int_service_channel_day_gaps": """
        service_code varchar, channel varchar, local_date date, completeness_note varchar""",
}


def make_config(tmp: Path, **overrides: Any) -> VigieConfig:
    """A small collectivité: ETAT_CIVIL (head + deputy), URBANISME (head), ENFANCE (no head)."""
    hours = {"monday": ["08:30-12:00", "13:30-17:00"], "tuesday": ["08:30-12:00"]}
    data: dict[str, Any] = {
        "collectivite": {
            "name": "Commune de Test",
            "timezone": "Europe/Paris",
            "data_team": {"name": "Équipe données", "email": "donnees@test.fr"},
            "internal_email_domains": ["test.fr"],
        },
        "services": [
            {"code": "ETAT_CIVIL", "name": "État civil",
             "head": {"name": "Claire Martin", "email": "c.martin@test.fr"},
             "deputies": [{"name": "Paul Girard", "email": "p.girard@test.fr"}],
             "opening_hours": [hours]},
            {"code": "URBANISME", "name": "Urbanisme",
             "head": {"name": "Karim Benali", "email": "k.benali@test.fr"},
             "opening_hours": [hours]},
            {"code": "ENFANCE", "name": "Enfance", "opening_hours": [hours]},
        ],
        "commitments": [
            {"id": "email_response_5bd", "label": "Courriels : réponse sous 5 jours ouvrés",
             "channel": "email", "target": {"value": 5, "unit": "business_days"},
             "threshold": 0.9, "min_volume": 3},
            {"id": "phone_pickup_rate", "label": "Téléphone : taux de décroché d'au moins 85 %",
             "channel": "phone", "threshold": 0.85, "min_volume": 20},
        ],
        "sources": [
            {"id": "pbx", "type": "asterisk_queue_log", "path": "x/queue_log",
             "queues": {"etat-civil": "ETAT_CIVIL"}},
            {"id": "mail", "type": "maildir", "path": "x/maildir",
             "mailboxes": [{"name": "ec", "path": "ec", "service": "ETAT_CIVIL"}]},
            {"id": "glpi", "type": "glpi_sql", "path": "x/glpi.sqlite", "timezone": "Europe/Paris"},
        ],
        "outputs": {
            "warehouse": "var/warehouse/vigie.duckdb", "landing": "var/landing",
            "bi_snapshot": "var/bi/vigie_bi.duckdb", "data_docs": "var/data_docs",
            "gx_project": "var/gx", "outbox": "var/outbox",
        },
        "alerts": {"language": "fr", "from_address": "vigie@test.fr", "max_age_days": 35},
    }
    for key, value in overrides.items():
        data[key] = value
    cfg = parse_config(data)
    return cfg.model_copy(update={"base_dir": tmp})


def land(cfg: VigieConfig, source_id: str, day: dt.date, rows: dict[str, list[dict[str, Any]]] | None = None,
         schemas: dict[str, pa.Schema] | None = None) -> Path:
    """Write a batch in the landing layout: every table of the source type, rejects, _batch.json."""
    source = next(s for s in cfg.sources if s.id == source_id)
    batch = cfg.path(cfg.outputs.landing) / source_id / f"day={day.isoformat()}"
    batch.mkdir(parents=True, exist_ok=True)
    rows = rows or {}
    tables = {**TABLES_BY_SOURCE_TYPE[source.type], "rejects": REJECTS}
    for name, schema in tables.items():
        schema = (schemas or {}).get(name, schema)
        table_rows = [{"source_id": source_id, **r} for r in rows.get(name, [])]
        tbl = pa.Table.from_pylist(table_rows, schema=schema) if table_rows else schema.empty_table()
        pq.write_table(tbl, batch / f"{name}.parquet")
    (batch / "_batch.json").write_text(json.dumps({"source_id": source_id, "day": day.isoformat()}))
    return batch


def land_all_empty(cfg: VigieConfig, day: dt.date) -> None:
    for s in cfg.sources:
        land(cfg, s.id, day)


def create_warehouse(cfg: VigieConfig, marts: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    """(Re)create the warehouse with marts.* tables of the contract columns and the given rows."""
    path = cfg.path(cfg.outputs.warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema if not exists marts")
        for name, ddl in MARTS_DDL.items():
            con.execute(f"create or replace table marts.{name} ({ddl})")
            cols = [c.strip().split()[0] for c in ddl.split(",")]
            for row in (marts or {}).get(name, []):
                values = [row.get(c) for c in cols]
                con.execute(
                    f"insert into marts.{name} ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
                    values,
                )
        con.execute("create schema if not exists intermediate")
        for name, ddl in INTERMEDIATE_DDL.items():
            con.execute(f"create or replace table intermediate.{name} ({ddl})")
            cols = [c.strip().split()[0] for c in ddl.split(",")]
            for row in (marts or {}).get(name, []):
                con.execute(
                    f"insert into intermediate.{name} ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
                    [row.get(c) for c in cols],
                )
    finally:
        con.close()
    return path


def indicator(commitment_id: str, service: str, grain: str, start: dt.date, end: dt.date,
              num: int, den: int, threshold: float, min_volume: int, *, channel: str = "email",
              final: bool = True, as_of: dt.datetime | None = None,
              target: tuple[float | None, str | None] = (5, "business_days")) -> dict[str, Any]:
    value = num / den if den else None
    return {
        "period_grain": grain, "period_start": start, "period_end": end, "service_code": service,
        "channel": channel, "commitment_id": commitment_id, "indicator": "compliance_rate",
        "numerator": num, "denominator": den, "value": value, "target_value": target[0],
        "target_unit": target[1], "threshold": threshold, "min_volume": min_volume,
        "is_breached": bool(value is not None and value < threshold and den >= min_volume),
        "is_final": final, "evaluated_as_of": as_of, "is_complete": True, "completeness_note": None,
    }
