"""The national presets of domain.md §3, pinned value by value.

A preset is what a collectivité gets by writing one word (`presets: [marianne]`): a changed
target or threshold would silently change every such site's rates and alerts, so each figure
is pinned here, and the readings of domain.md's table (Marianne "about 20-25 s" -> 20 s; the
Services Publics+ electronic acknowledgement on channel `online` only) are explained in
DECISIONLOG.md Part 2 › Status › Preset readings.
"""

from __future__ import annotations

import datetime as dt

from vigie.config import PRESETS, parse_config

# (id, channel, metric, target value, target unit, threshold, min_volume)
EXPECTED = {
    "marianne": [
        ("marianne_letter_response", "letter", "first_response", 15, "business_days", 0.9, 5),
        ("marianne_email_response", "email", "first_response", 5, "business_days", 0.9, 5),
        ("marianne_phone_pickup_20s", "phone", "first_response", 20, "seconds", 0.8, 20),
    ],
    "services_publics_plus": [
        ("spp_online_acknowledgement", "online", "acknowledgement", 1, "weeks", 0.9, 5),
        ("spp_letter_acknowledgement", "letter", "acknowledgement", 2, "weeks", 0.9, 5),
        ("spp_phone_pickup_rate", "phone", "first_response", None, None, 0.85, 20),
    ],
}


def test_every_preset_figure_is_pinned() -> None:
    got = {
        name: [
            (
                c.id,
                c.channel,
                c.metric,
                c.target.value if c.target else None,
                c.target.unit if c.target else None,
                c.threshold,
                c.min_volume,
            )
            for c in commitments
        ]
        for name, commitments in PRESETS.items()
    }
    assert got == EXPECTED


def test_presets_apply_forever_to_every_service_and_every_request_kind() -> None:
    """A preset has one open version from 2000-01-01 (a site changes it by a dated override)."""
    for commitments in PRESETS.values():
        for c in commitments:
            assert (c.valid_from, c.valid_to, c.services, c.request_kind) == (dt.date(2000, 1, 1), None, "all", None)


def test_no_email_twin_of_the_electronic_acknowledgement() -> None:
    """SP+ engagement 5 is read on `online` only (DECISIONLOG): a site adds an email one itself."""
    channels = {c.channel for c in PRESETS["services_publics_plus"] if c.metric == "acknowledgement"}
    assert channels == {"online", "letter"}


def test_a_site_overrides_the_phone_preset_to_25_seconds() -> None:
    """The stricter end of Marianne's 20-25 s is the default; 25 s is one override of the same id."""
    data = {
        "collectivite": {"name": "Test", "data_team": {"name": "Data", "email": "data@example.fr"}},
        "services": [{"code": "AA", "name": "A", "opening_hours": [{"monday": ["08:00-12:00"]}]}],
        "presets": ["marianne"],
        "commitments": [
            {
                "id": "marianne_phone_pickup_20s",
                "label": "Téléphone : décroché en moins de 25 s",
                "channel": "phone",
                "metric": "first_response",
                "target": {"value": 25, "unit": "seconds"},
                "threshold": 0.8,
                "min_volume": 20,
            }
        ],
    }
    phone = [c for c in parse_config(data).all_commitments() if c.id == "marianne_phone_pickup_20s"]
    assert [(c.target.value, c.target.unit) for c in phone if c.target] == [(25, "seconds")]
