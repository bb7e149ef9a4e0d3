"""Commitment versions under one id: validation, preset overrides per version, config rows.

A collectivité that changes a commitment on 1 March keeps its id (so BI and alerts follow one
commitment over time) and declares a second version; the engine judges each request by the
version in force on its local receipt date (engine unit test ``engine_rules_of_domain_section_5``
r22/r23, and tests/engine/test_reference_agreement.py end to end).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
import yaml

from vigie.config import ConfigError, load_config, parse_config
from vigie.warehouse_config import load_config_tables

D = dt.date


def _base(commitments: list[dict], presets: list[str] | None = None) -> dict:
    return {
        "collectivite": {"name": "Test", "data_team": {"name": "Data", "email": "data@example.fr"}},
        "services": [
            {"code": "AA", "name": "A", "opening_hours": [{"monday": ["08:00-12:00"]}]},
            {"code": "BB", "name": "B", "opening_hours": [{"monday": ["08:00-12:00"]}]},
        ],
        "presets": presets or [],
        "commitments": commitments,
    }


def _email(valid_from: str | None, valid_to: str | None, days: int, **extra: object) -> dict:
    c: dict = {
        "id": "email_response",
        "label": f"Courriels sous {days} jours ouvrés",
        "channel": "email",
        "target": {"value": days, "unit": "business_days"},
        "threshold": 0.9,
        **extra,
    }
    if valid_from:
        c["valid_from"] = valid_from
    if valid_to:
        c["valid_to"] = valid_to
    return c


def test_two_versions_of_one_id_are_both_kept() -> None:
    cfg = parse_config(_base([
        _email(None, "2026-03-01", 5),
        _email("2026-03-01", None, 3, services=["AA"]),
    ]))
    versions = [(c.id, c.valid_from, c.valid_to, c.target.value) for c in cfg.all_commitments()]
    assert versions == [
        ("email_response", D(2000, 1, 1), D(2026, 3, 1), 5),
        ("email_response", D(2026, 3, 1), None, 3),
    ]
    assert [c.target.value for c in cfg.commitments_in_force(D(2026, 2, 28))] == [5]
    assert [c.target.value for c in cfg.commitments_in_force(D(2026, 3, 1))] == [3]


def test_versions_may_leave_a_gap_and_come_in_any_order() -> None:
    cfg = parse_config(_base([
        _email("2026-09-01", None, 4),
        _email("2026-01-01", "2026-06-01", 5),
    ]))
    assert [(c.valid_from, c.valid_to) for c in cfg.all_commitments()] == [
        (D(2026, 1, 1), D(2026, 6, 1)),
        (D(2026, 9, 1), None),
    ]
    assert cfg.commitments_in_force(D(2026, 7, 14)) == []


def test_overlapping_versions_are_an_error_naming_both(tmp_path: Path) -> None:
    data = _base([
        _email(None, None, 5),  # open-ended from 2000-01-01
        {"id": "other_one", "label": "x", "channel": "letter", "threshold": 0.5},
        _email("2026-03-01", None, 3),
    ])
    path = tmp_path / "site.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    [(key, message)] = err.value.problems
    assert key == "(top level)"
    assert message == (
        "versions of commitment 'email_response' overlap: "
        "commitments[0:email_response] [2000-01-01, open) and "
        "commitments[2:email_response] [2026-03-01, open); "
        "give each version a valid_from after the previous one's valid_to (exclusive)"
    )


def test_touching_versions_do_not_overlap_but_one_day_does() -> None:
    parse_config(_base([_email(None, "2026-03-01", 5), _email("2026-03-01", None, 3)]))
    with pytest.raises(ConfigError) as err:
        parse_config(_base([_email(None, "2026-03-02", 5), _email("2026-03-01", None, 3)]))
    assert "overlap" in err.value.problems[0][1]


def test_versions_must_keep_channel_and_metric() -> None:
    changed = _email("2026-03-01", None, 3)
    changed["metric"] = "acknowledgement"
    with pytest.raises(ConfigError) as err:
        parse_config(_base([_email(None, "2026-03-01", 5), changed]))
    assert err.value.problems[0][1].startswith("versions of one commitment must share channel, metric and request_kind")


def test_a_preset_is_overridden_only_on_the_file_versions_dates() -> None:
    # Marianne says 5 jours ouvrés; this collectivité commits to 3 from 1 March 2026 to
    # 1 September 2026 (a trial), then the preset applies again.
    override = _email("2026-03-01", "2026-09-01", 3)
    override["id"] = "marianne_email_response"
    cfg = parse_config(_base([override], presets=["marianne"]))
    email = [
        (c.valid_from, c.valid_to, c.target.value, c.min_volume)
        for c in cfg.all_commitments() if c.id == "marianne_email_response"
    ]
    assert email == [
        (D(2000, 1, 1), D(2026, 3, 1), 5, 5),  # the preset, before the file's version
        (D(2026, 3, 1), D(2026, 9, 1), 3, 1),  # the file's version
        (D(2026, 9, 1), None, 5, 5),  # the preset again
    ]
    # the other presets are untouched
    assert sum(c.id == "marianne_letter_response" for c in cfg.all_commitments()) == 1


def test_a_file_version_covering_everything_replaces_the_preset() -> None:
    override = _email(None, None, 5, min_volume=3)
    override["id"] = "marianne_email_response"
    cfg = parse_config(_base([override], presets=["marianne"]))
    email = [c for c in cfg.all_commitments() if c.id == "marianne_email_response"]
    assert [(c.valid_from, c.valid_to, c.min_volume) for c in email] == [(D(2000, 1, 1), None, 3)]


def test_config_tables_scope_each_version() -> None:
    cfg = parse_config(_base([
        _email(None, "2026-03-01", 5),
        _email("2026-03-01", None, 3, services=["AA"]),
    ]))
    con = duckdb.connect()
    load_config_tables(con, cfg, D(2026, 1, 1), D(2026, 12, 31))
    assert con.execute(
        "select commitment_id, target_value, valid_from, valid_to from config.commitments order by valid_from"
    ).fetchall() == [
        ("email_response", 5.0, D(2000, 1, 1), D(2026, 3, 1)),
        ("email_response", 3.0, D(2026, 3, 1), None),
    ]
    assert con.execute(
        "select commitment_id, service_code, valid_from from config.commitment_services order by all"
    ).fetchall() == [
        ("email_response", "AA", D(2000, 1, 1)),
        ("email_response", "AA", D(2026, 3, 1)),
        ("email_response", "BB", D(2000, 1, 1)),
    ]


def test_versions_must_keep_the_request_kind() -> None:
    """A commitment for complaints cannot become one for every letter on a date: its history
    would mix two populations (DECISIONLOG Part 2, request_kind)."""
    changed = _email("2026-03-01", None, 3)
    changed["request_kind"] = "complaint"
    with pytest.raises(ConfigError) as err:
        parse_config(_base([_email(None, "2026-03-01", 5), changed]))
    assert "must share channel, metric and request_kind" in err.value.problems[0][1]
