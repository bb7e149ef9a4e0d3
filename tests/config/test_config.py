"""Configuration loading: the demo file is valid; mistakes are reported by file, key, expected."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from vigie.cli import main
from vigie.config import ConfigError, load_config, parse_config

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEMO = PROJECT_DIR / "config" / "vigie.yml"


def _demo() -> dict:
    return yaml.safe_load(DEMO.read_text(encoding="utf-8"))


def _problems(data: dict, tmp_path: Path) -> list[tuple[str, str]]:
    path = tmp_path / "site.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    return err.value.problems


def test_demo_configuration_is_valid_and_merges_presets() -> None:
    cfg = load_config(DEMO)
    assert len(cfg.services) == 6
    ids = [c.id for c in cfg.all_commitments()]
    assert ids.count("marianne_email_response") == 1
    override = next(c for c in cfg.all_commitments() if c.id == "marianne_email_response")
    assert override.min_volume == 3  # the file's own version wins over the preset
    assert cfg.path(cfg.outputs.warehouse) == (PROJECT_DIR / "var/warehouse/vigie.duckdb")
    assert cfg.service("ETAT_CIVIL").opening_hours[0].ranges_for(0) == [(510, 720), (810, 1020)]


def test_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    data = _demo()
    data["services"][1]["opening_hours"][0]["mondy"] = ["09:00-12:00"]
    assert _problems(data, tmp_path) == [
        ("services[1:URBANISME].opening_hours[0].mondy",
         "unknown key (see docs/configuration.md for the keys this section takes)")
    ]


def test_wrong_values_say_what_was_expected(tmp_path: Path) -> None:
    data = _demo()
    data["collectivite"]["timezone"] = "Europe/Pariss"
    data["commitments"][0]["target"]["unit"] = "jours"
    problems = dict(_problems(data, tmp_path))
    assert problems["collectivite.timezone"].startswith("expected an IANA time zone")
    assert problems["commitments[0:marianne_email_response].target.unit"].startswith(
        "expected 'seconds', 'business_minutes'")


def test_overlapping_opening_ranges_are_refused(tmp_path: Path) -> None:
    data = _demo()
    data["services"][0]["opening_hours"][0]["monday"] = ["08:30-12:00", "11:30-17:00"]
    ((key, msg),) = _problems(data, tmp_path)
    assert key == "services[0:ETAT_CIVIL].opening_hours[0].monday"
    assert "overlaps" in msg


def test_unknown_service_code_in_a_mapping(tmp_path: Path) -> None:
    data = _demo()
    data["sources"][0]["queues"]["etat-civil"] = "ETAT_CIVILE"
    ((_, msg),) = _problems(data, tmp_path)
    assert "sources[pbx_queue_log].queues.etat-civil: unknown service code 'ETAT_CIVILE'" in msg


def test_unknown_holiday_subdivision_is_refused_at_load_time(tmp_path: Path) -> None:
    """'975' (Saint-Pierre-et-Miquelon's old number) is no holidays.France subdivision: said at
    load time with the known codes, not at the first night's transform."""
    data = _demo()
    data["collectivite"]["holidays"]["subdivision"] = "975"
    ((key, message),) = _problems(data, tmp_path)
    assert key == "collectivite.holidays.subdivision"
    assert message.startswith("unknown subdivision '975'; holidays.France knows ['57', '67', '68', '6AE', '971'")
    for accepted in ("57", "67", "68", "6AE", "974", "Moselle"):
        data["collectivite"]["holidays"]["subdivision"] = accepted
        parse_config(data)


def test_commitment_validity_must_be_ordered() -> None:
    data = _demo()
    data["commitments"][0]["valid_from"] = dt.date(2026, 3, 1)
    data["commitments"][0]["valid_to"] = dt.date(2026, 1, 1)
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert "valid_to must be after valid_from" in str(err.value)


def test_glpi_source_needs_exactly_one_location() -> None:
    data = _demo()
    data["sources"][3]["connection_id"] = "glpi_db"
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert "exactly one of 'path'" in str(err.value)


def test_check_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--skip-paths", str(DEMO)]) == 0
    assert "6 services" in capsys.readouterr().out
    bad = tmp_path / "bad.yml"
    bad.write_text("collectivite: [unclosed\n", encoding="utf-8")
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: line 2, column 1: not valid YAML" in err


def test_email_thread_window_reaches_dbt_as_a_stable_var() -> None:
    """email.thread_window_days is passed on every night (it keeps dbt's partial parse)."""
    from vigie.transform import STABLE_VARS, dbt_vars

    data = _demo()
    assert parse_config(data).email.thread_window_days == 30
    data["email"] = {"thread_window_days": 40}
    cfg = parse_config(data)
    assert dbt_vars(cfg, dt.date(2026, 11, 16))["email_thread_window_days"] == "40"
    assert "email_thread_window_days" in STABLE_VARS
    data["email"] = {"thread_window_days": 0}
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert err.value.problems[0][0] == "email.thread_window_days"
