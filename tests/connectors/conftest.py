"""Fixtures of the connector tests: a minimal configuration pointing at copies of the fixtures."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vigie.config import VigieConfig, parse_config

ASTERISK_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "asterisk"
HOURS = {
    d: ["08:30-12:00", "13:30-17:00"]
    for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


def minimal_config(
    base_dir: Path, sources: list[dict[str, Any]], timezone: str = "Europe/Paris"
) -> VigieConfig:
    data = {
        "collectivite": {
            "name": "Commune de test",
            "timezone": timezone,
            "data_team": {"name": "Données", "email": "donnees@test.fr"},
        },
        "services": [
            {"code": code, "name": code.title(), "opening_hours": [HOURS]}
            for code in ("ETAT_CIVIL", "URBANISME", "CCAS", "ACCUEIL")
        ],
        "sources": sources,
        "outputs": {"landing": "landing"},
    }
    cfg = parse_config(data)
    return cfg.model_copy(update={"base_dir": base_dir})


@pytest.fixture
def asterisk_dir(tmp_path: Path) -> Path:
    """A private copy of tests/fixtures/asterisk (tests may edit or delete files in it)."""
    dest = tmp_path / "asterisk"
    shutil.copytree(ASTERISK_FIXTURES, dest)
    return dest


QUEUES = {
    "etat-civil": "ETAT_CIVIL",
    "urbanisme": "URBANISME",
    "ccas": "CCAS",
    "accueil": "ACCUEIL",
    "accueil-debordement": "ACCUEIL",
}


@pytest.fixture
def telephony_cfg(tmp_path: Path, asterisk_dir: Path) -> Callable[..., VigieConfig]:
    """Factory: a configuration with the queue_log and CDR sources (CDR options overridable)."""

    def make(zone: str = "Europe/Paris", **cdr: Any) -> VigieConfig:
        sources = [
            {
                "id": "pbx_queue_log",
                "type": "asterisk_queue_log",
                "path": "asterisk/queue_log/queue_log*",
                "queues": QUEUES,
            },
            {
                "id": "pbx_cdr",
                "type": "asterisk_cdr_csv",
                "path": "asterisk/cdr/Master.csv",
                "timezone": "UTC",
                "columns": 18,
                **cdr,
            },
        ]
        return minimal_config(tmp_path, sources, zone)

    return make


@pytest.fixture
def bare_cfg(tmp_path: Path) -> VigieConfig:
    """A configuration without sources (pseudonymisation key tests)."""
    return minimal_config(tmp_path, [])
