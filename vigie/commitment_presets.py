"""Ready-made commitments for the national figures of domain.md §3.

A configuration lists preset names under ``presets:`` and may override any commitment by
declaring one with the same id. Thresholds are Vigie's defaults, not national figures: the
national texts fix targets, each collectivité sets the share it commits to.

Two readings of domain.md's table are settled in DECISIONLOG.md (Part 2, "Preset readings") and
pinned by tests/config/test_commitment_presets.py: Marianne's "about 20-25 s" is 20 s (the
stricter end; a site overrides to 25 s), and Services Publics+'s acknowledgement of an electronic
request is for channel ``online`` only, not ``email``.

Each preset is written as a configuration file's ``commitments:`` entries would be (plain data,
no import of ``vigie.config``): ``vigie.config`` validates them into ``PRESETS`` with the same
model as a site's own commitments, and this module never depends on it (no import cycle).
"""

from __future__ import annotations

from typing import Any

PRESET_ENTRIES: dict[str, list[dict[str, Any]]] = {
    "marianne": [
        {
            "id": "marianne_letter_response",
            "label": "Courriers : réponse sous 15 jours ouvrés",
            "channel": "letter",
            "metric": "first_response",
            "target": {"value": 15, "unit": "business_days"},
            "threshold": 0.9,
            "min_volume": 5,
            "reference": "Référentiel Marianne",
        },
        {
            "id": "marianne_email_response",
            "label": "Courriels : réponse sous 5 jours ouvrés",
            "channel": "email",
            "metric": "first_response",
            "target": {"value": 5, "unit": "business_days"},
            "threshold": 0.9,
            "min_volume": 5,
            "reference": "Référentiel Marianne",
        },
        {
            "id": "marianne_phone_pickup_20s",
            "label": "Téléphone : décroché en moins de 5 sonneries (20 s)",
            "channel": "phone",
            "metric": "first_response",
            "target": {"value": 20, "unit": "seconds"},
            "threshold": 0.8,
            "min_volume": 20,
            "reference": "Référentiel Marianne",
        },
    ],
    "services_publics_plus": [
        {
            "id": "spp_online_acknowledgement",
            "label": "Demandes électroniques : accusé de réception sous 1 semaine",
            "channel": "online",
            "metric": "acknowledgement",
            "target": {"value": 1, "unit": "weeks"},
            "threshold": 0.9,
            "min_volume": 5,
            "reference": "Services Publics+ engagement 5",
        },
        {
            "id": "spp_letter_acknowledgement",
            "label": "Courriers : accusé de réception sous 2 semaines",
            "channel": "letter",
            "metric": "acknowledgement",
            "target": {"value": 2, "unit": "weeks"},
            "threshold": 0.9,
            "min_volume": 5,
            "reference": "Services Publics+ engagement 5",
        },
        {
            "id": "spp_phone_pickup_rate",
            "label": "Téléphone : taux de décroché d'au moins 85 %",
            "channel": "phone",
            "metric": "first_response",
            "target": None,
            "threshold": 0.85,
            "min_volume": 20,
            "reference": "Services Publics+ plan téléphone",
        },
    ],
}
