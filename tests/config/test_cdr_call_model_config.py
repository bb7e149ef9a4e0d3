"""CDR-only call model keys (services_by_dcontext, agent_channel_pattern) reach config tables.

Sites without a queue_log describe their calls by dcontext and agent channels; a mapping without
an agent pattern, or a pattern that does not compile, is refused at load time rather than making
every call "abandoned" at night.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from vigie.config import ConfigError, parse_config
from vigie.warehouse_config import config_rows

DEMO = Path(__file__).resolve().parents[2] / "config" / "vigie.yml"


def _demo_with_cdr_keys(**keys: object) -> dict:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    cdr = next(s for s in data["sources"] if s["type"] == "asterisk_cdr_csv")
    cdr.update(keys)
    return data


def test_cdr_contexts_become_config_rows() -> None:
    cfg = parse_config(
        _demo_with_cdr_keys(
            services_by_dcontext={"ivr-accueil": "ACCUEIL", "from-pstn-accueil": "ACCUEIL"},
            agent_channel_pattern=r"^PJSIP/1\d\d-",
        )
    )
    day = dt.date(2026, 11, 23)
    rows = config_rows(cfg, day, day, day)["phone_cdr_contexts"]
    assert rows == [
        ("pbx_cdr", "from-pstn-accueil", "ACCUEIL", r"^PJSIP/1\d\d-"),
        ("pbx_cdr", "ivr-accueil", "ACCUEIL", r"^PJSIP/1\d\d-"),
    ]


def test_a_wazo_source_maps_its_call_direction_to_a_service() -> None:
    data = _demo_with_cdr_keys()
    data["sources"].append(
        {
            "id": "wazo",
            "type": "wazo_cdr",
            "connection_id": "wazo_call_logd",
            "services_by_dcontext": {"inbound": "TECHNIQUE"},
            "agent_channel_pattern": "^wazo/user/",
        }
    )
    day = dt.date(2026, 11, 23)
    rows = config_rows(parse_config(data), day, day, day)["phone_cdr_contexts"]
    assert rows == [("wazo", "inbound", "TECHNIQUE", "^wazo/user/")]


def test_demo_without_cdr_keys_has_no_cdr_contexts() -> None:
    cfg = parse_config(_demo_with_cdr_keys())
    day = dt.date(2026, 11, 23)
    assert config_rows(cfg, day, day, day)["phone_cdr_contexts"] == []


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"services_by_dcontext": {"ivr-accueil": "ACCUEIL"}}, "needs agent_channel_pattern"),
        (
            {"services_by_dcontext": {"ivr": "ACCUEIL"}, "agent_channel_pattern": "PJSIP/(1"},
            "agent_channel_pattern is not a regular expression",
        ),
        (
            {"services_by_dcontext": {"ivr": "ACCUIEL"}, "agent_channel_pattern": "^PJSIP/1"},
            "services_by_dcontext.ivr: unknown service code 'ACCUIEL'",
        ),
    ],
)
def test_bad_cdr_call_model_keys_are_refused(keys: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_demo_with_cdr_keys(**keys))
    assert message in str(err.value)
