"""A commitment scoped to a kind of request (`request_kind: complaint`): parsing, rejection of
unknown kinds, and the config table row the engine reads.

Local charters promise things such as "complaints answered within 10 jours ouvrés" (domain.md
§3): the commitment must judge only the requests its sources classify as complaints (GLPI
complaint_categories, register complaint_values), while a commitment without request_kind keeps
judging every request of its channel. The engine side is pinned by the dbt unit test
``engine_complaint_commitment_judges_complaints_only``.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from vigie.config import ConfigError, parse_config
from vigie.warehouse_config import load_config_tables

D = dt.date


def _config(*commitments: dict) -> dict:
    return {
        "collectivite": {"name": "Test", "data_team": {"name": "Data", "email": "data@example.fr"}},
        "services": [{"code": "COURRIER", "name": "Courrier", "opening_hours": [{"monday": ["08:00-12:00"]}]}],
        "commitments": list(commitments),
    }


def _letter(cid: str, days: int, **extra: object) -> dict:
    return {
        "id": cid,
        "label": f"Courriers sous {days} jours ouvrés",
        "channel": "letter",
        "target": {"value": days, "unit": "business_days"},
        "threshold": 0.9,
        **extra,
    }


def test_request_kind_parses_and_defaults_to_every_request() -> None:
    cfg = parse_config(_config(_letter("complaints_10bd", 10, request_kind="complaint"), _letter("letter_15bd", 15)))
    kinds = {c.id: c.request_kind for c in cfg.all_commitments()}
    assert kinds == {"complaints_10bd": "complaint", "letter_15bd": None}


@pytest.mark.parametrize("kind", ["suggestion", "Complaint", "reclamation", ""])
def test_an_unknown_request_kind_is_rejected(kind: str) -> None:
    with pytest.raises(ConfigError, match="request_kind"):
        parse_config(_config(_letter("complaints_10bd", 10, request_kind=kind)))


def test_a_call_only_phone_commitment_cannot_be_scoped_to_complaints() -> None:
    # phone commitments in seconds (or without target) judge calls, and calls are never classified
    pickup = {"id": "pickup", "label": "Décroché", "channel": "phone", "threshold": 0.85, "request_kind": "complaint"}
    with pytest.raises(ConfigError, match="calls are never classified"):
        parse_config(_config(pickup))


def test_request_kind_reaches_the_config_table() -> None:
    cfg = parse_config(_config(_letter("complaints_10bd", 10, request_kind="complaint"), _letter("letter_15bd", 15)))
    con = duckdb.connect()
    load_config_tables(con, cfg, D(2026, 1, 1), D(2026, 12, 31))
    assert con.execute(
        "select commitment_id, channel, target_value, target_unit, request_kind from config.commitments order by all"
    ).fetchall() == [
        ("complaints_10bd", "letter", 10.0, "business_days", "complaint"),
        ("letter_15bd", "letter", 15.0, "business_days", None),
    ]
