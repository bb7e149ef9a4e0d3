"""Shared fixtures of the email connector tests: a minimal configuration around the Maildir
fixture tree, and a pseudonymiser with a fixed test key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.pseudonymise import Pseudonymiser
from vigie.config import VigieConfig, parse_config

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"
MAILDIR = FIXTURES / "maildir"
TEST_KEY = b"h2-email-test-key-0123456789abcdef"
HOURS = {"monday": ["08:30-12:00", "13:30-17:00"]}


def make_config(maildir: Path, **source: Any) -> VigieConfig:
    data = {
        "collectivite": {
            "name": "Commune de test",
            "timezone": "Europe/Paris",
            "internal_email_domains": ["val-de-vigie.fr"],
            "data_team": {"name": "Données", "email": "donnees@val-de-vigie.fr"},
        },
        "services": [
            {"code": "ETAT_CIVIL", "name": "État civil", "opening_hours": [HOURS]},
            {"code": "URBANISME", "name": "Urbanisme", "opening_hours": [HOURS]},
        ],
        "sources": [
            {
                "id": "mairie_mail",
                "type": "maildir",
                "path": str(maildir),
                "mailboxes": [
                    {"name": "etat-civil", "path": "etat-civil", "service": "ETAT_CIVIL",
                     "address": "etat-civil@val-de-vigie.fr"},
                    {"name": "urbanisme", "path": "urbanisme", "service": "URBANISME",
                     "address": "urbanisme@val-de-vigie.fr"},
                ],
                **source,
            }
        ],
    }
    return parse_config(data)


@pytest.fixture()
def cfg() -> VigieConfig:
    return make_config(MAILDIR)


@pytest.fixture()
def pseudo() -> Pseudonymiser:
    return Pseudonymiser(TEST_KEY)
