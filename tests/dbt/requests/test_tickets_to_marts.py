"""GLPI fixture, a courrier register and a survey export, through the real connectors and dbt,
to the marts (requests, ticket_indicators, satisfaction_indicators, ticket_delay_reconciliation).

Night: Monday 16 Nov 2026, Europe/Paris (as-of 16 Nov 23:00 UTC). GLPI fixture:
tests/fixtures/glpi/build_glpi.py (every case of issue 6 point 7 is one of its tickets).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from connectors.landing import land_batch
from connectors.pseudonymise import Pseudonymiser
from connectors.registers import request_register, satisfaction_survey
from connectors.ticketing import glpi
from vigie.config import VigieConfig, parse_config
from vigie.intervals import night_for_day

_spec = importlib.util.spec_from_file_location(
    "build_glpi", Path(__file__).resolve().parents[2] / "fixtures" / "glpi" / "build_glpi.py"
)
assert _spec and _spec.loader
build_glpi = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_glpi)

DAY = dt.date(2026, 11, 16)
WEEKDAYS = {d: ["08:30-12:00", "13:30-17:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}
# Register: R1 answered in 4 business days; R2 a complaint still open (13 days old);
# R3 received 20 Oct, never answered (27 days old, overdue); line 5 a bad date (reject).
REGISTER = (
    "N° enregistrement;Date d'arrivée;Expéditeur;Service;Nature;Date accusé;Date de réponse\r\n"
    "C-2026-001;02/11/2026;Jeanne Dupont;État civil;Demande;04/11/2026;06/11/2026 10:30\r\n"
    "C-2026-002;03/11/2026 14:05;Paul Martin;Urbanisme;Réclamation;;\r\n"
    "C-2026-003;20/10/2026;Léa Roux;État civil;Demande;;\r\n"
    "C-2026-004;31/11/2026;Léa Roux;État civil;Demande;;\r\n"
)
SURVEY = (
    "Identifiant;Envoyé le;Répondu le;Note;Référence\n"
    "S1;13/11/2026;14/11/2026 10:00;9;GLPI-106\n"
    "S2;09/11/2026;;;C-2026-001\n"
    "S3;10/11/2026;10/11/2026;7,5;C-2026-001\n"
)


def config(tmp_path: Path) -> VigieConfig:
    return parse_config(
        {
            "collectivite": {
                "name": "Commune de test",
                "timezone": "Europe/Paris",
                "data_team": {"name": "Données", "email": "donnees@val-de-vigie.fr"},
            },
            "services": [
                {"code": c, "name": c, "opening_hours": [WEEKDAYS]}
                for c in ("ETAT_CIVIL", "URBANISME", "TECHNIQUE")
            ],
            "presets": ["marianne", "services_publics_plus"],
            "commitments": [
                {"id": "email_resolution_10bd", "label": "Résolution sous 10 jours ouvrés",
                 "channel": "email", "metric": "resolution",
                 "target": {"value": 10, "unit": "business_days"}, "threshold": 0.9},
            ],
            "sources": [
                {"id": "glpi", "type": "glpi_sql", "path": "glpi.sqlite", "timezone": "Europe/Paris",
                 "groups": {1: "ETAT_CIVIL", 2: "URBANISME", 5: "TECHNIQUE"},
                 "categories": {11: "ETAT_CIVIL"}, "complaint_categories": [11]},
                {"id": "courrier", "type": "request_register", "path": "courrier.csv",
                 "columns": {"request_id": "N° enregistrement", "received_at": "Date d'arrivée",
                             "requester": "Expéditeur", "service": "Service", "category": "Nature",
                             "acknowledged_at": "Date accusé", "first_response_at": "Date de réponse"},
                 "services": {"État civil": "ETAT_CIVIL", "Urbanisme": "URBANISME"},
                 "complaint_values": ["Réclamation"]},
                {"id": "enquete", "type": "satisfaction_survey", "path": "enquete.csv",
                 "columns": {"response_id": "Identifiant", "sent_at": "Envoyé le",
                             "answered_at": "Répondu le", "score": "Note", "request_ref": "Référence"}},
            ],
        }
    ).model_copy(update={"base_dir": tmp_path})


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import DbtSandbox, night_vars, node_statuses

    root = tmp_path_factory.mktemp("tickets_to_marts")
    build_glpi.build_glpi_sqlite(root / "glpi.sqlite")
    (root / "courrier.csv").write_bytes(REGISTER.encode("cp1252"))
    (root / "enquete.csv").write_bytes(SURVEY.encode("utf-8-sig"))
    cfg = config(root)
    box = DbtSandbox(root / "dbt")
    box.root.mkdir()
    box.prepare(DAY, cfg)
    night = night_for_day(DAY, "Europe/Paris")
    pseudo = Pseudonymiser(b"h11-tickets-to-marts-key-0123456")
    rejects = {}
    for source, module in zip(cfg.sources, (glpi, request_register, satisfaction_survey), strict=True):
        result = module.read_interval(cfg, source, night, pseudo)
        batch = land_batch(box.landing, source.id, source.type, DAY, result)
        rejects[source.id] = batch.reject_count
    built = box.dbt(
        ["run", "--select", "+requests +ticket_indicators +satisfaction_indicators +ticket_delay_reconciliation"],
        night_vars(DAY),
    )
    assert built.success, node_statuses(built)
    return box, rejects


def q(box: Any, sql: str) -> list[tuple[Any, ...]]:
    return box.query(sql)


def test_requests_from_every_fixture_case(marts: Any) -> None:
    box, rejects = marts
    assert rejects == {"glpi": 0, "courrier": 1, "enquete": 0}
    rows = q(box, """
        select request_ref, channel, service_code, first_response_at, acknowledged_at, resolved_at
        from marts.requests where source_system in ('glpi', 'request_register') order by request_ref
    """)
    utc = dt.UTC
    assert rows == [
        # Register letters: dates only = 00:00 local (receipt) / 23:59:59 local (answer dates).
        ("C-2026-001", "letter", "ETAT_CIVIL", dt.datetime(2026, 11, 6, 9, 30, tzinfo=utc),
         dt.datetime(2026, 11, 4, 22, 59, 59, tzinfo=utc), None),
        ("C-2026-002", "letter", "URBANISME", None, None, None),
        ("C-2026-003", "letter", "ETAT_CIVIL", None, None, None),
        # 101: requester's follow-up (10:00) and private one (10:30) are not responses; the
        # public task at 10:15 is.
        ("GLPI-101", "online", "TECHNIQUE", dt.datetime(2026, 11, 16, 9, 15, tzinfo=utc),
         dt.datetime(2026, 11, 16, 9, 30, tzinfo=utc), None),
        # 102 reopened: first response = first solution (12 Nov 14:00), resolution = the last
        # solvedate (16 Nov 15:00); no status 4 in its history, so nothing is taken out.
        ("GLPI-102", "email", "ETAT_CIVIL", dt.datetime(2026, 11, 12, 13, tzinfo=utc),
         dt.datetime(2026, 11, 10, 7, 5, tzinfo=utc), dt.datetime(2026, 11, 16, 14, tzinfo=utc)),
        # 103 moved from group 1 (ETAT_CIVIL) to group 2: URBANISME; its only task is private.
        ("GLPI-103", "letter", "URBANISME", None, dt.datetime(2026, 11, 16, 7, 45, tzinfo=utc), None),
        # 104: no group, category 11 -> ETAT_CIVIL; takeintoaccountdate junk -> null.
        ("GLPI-104", "email", "ETAT_CIVIL", None, None, None),
        # 105 is deleted: no request. 106 solved 13 Nov 10:00 by a solution.
        ("GLPI-106", "counter", "ETAT_CIVIL", dt.datetime(2026, 11, 13, 9, tzinfo=utc),
         dt.datetime(2026, 11, 9, 8, 10, tzinfo=utc), dt.datetime(2026, 11, 13, 9, tzinfo=utc)),
        # 108: no group, no category mapping -> no service; its 23:59 follow-up is an agent's.
        ("GLPI-108", "online", None, dt.datetime(2026, 11, 16, 22, 59, tzinfo=utc), None, None),
        ("GLPI-109", "phone", "TECHNIQUE", None, None, None),
    ]


def indicator(box: Any, grain: str, start: str, service: str | None, channel: str, name: str,
              commitment: str | None = None, band: str | None = None) -> tuple[Any, ...]:
    rows = q(box, f"""
        select numerator, denominator, round(value, 6) from marts.ticket_indicators
        where period_grain = '{grain}' and period_start = date '{start}'
          and service_code is not distinct from {f"'{service}'" if service else 'null'}
          and channel = '{channel}' and indicator = '{name}'
          and commitment_id is not distinct from {f"'{commitment}'" if commitment else 'null'}
          and age_band is not distinct from {f"'{band}'" if band else 'null'}
    """)
    assert len(rows) <= 1, rows
    return rows[0] if rows else ()


def test_ticket_indicators(marts: Any) -> None:
    box, _ = marts
    # Letters of ETAT_CIVIL received in November's weeks: C-2026-001 (2 Nov); 20 Oct is October.
    assert indicator(box, "month", "2026-11-01", "ETAT_CIVIL", "letter", "requests_received") == (1, None, 1.0)
    assert indicator(box, "month", "2026-10-01", "ETAT_CIVIL", "letter", "requests_received") == (1, None, 1.0)
    # Complaints: URBANISME's letter C-2026-002 (register value « Réclamation ») among its two
    # November letters (GLPI 103 is a letter too: register and GLPI letters count together), and
    # GLPI 104 (category 11) among ETAT_CIVIL's 2 email tickets of November (102, 104).
    assert indicator(box, "month", "2026-11-01", "URBANISME", "letter", "complaints_received") == (1, 2, 0.5)
    assert indicator(box, "month", "2026-11-01", "ETAT_CIVIL", "email", "complaints_received") == (1, 2, 0.5)
    # Letters answered within 15 jours ouvrés (Marianne), by the deadline's period: C-2026-001
    # (2 Nov -> 6 Nov, met; its deadline 24 Nov falls in no period up to the night but November);
    # C-2026-003 (20 Oct, deadline 10 Nov, still unanswered: overdue) in the week of 9 Nov.
    assert indicator(box, "week", "2026-11-09", "ETAT_CIVIL", "letter", "first_response_within_commitment",
                     "marianne_letter_response") == (0, 1, 0.0)
    assert indicator(box, "month", "2026-11-01", "ETAT_CIVIL", "letter", "first_response_within_commitment",
                     "marianne_letter_response") == (1, 2, 0.5)
    # Acknowledgement within two weeks (Services Publics+): C-2026-001 acknowledged on 4 Nov,
    # met; C-2026-003 (20 Oct, deadline 3 Nov, none) overdue -> November 1 of 2.
    assert indicator(box, "month", "2026-11-01", "ETAT_CIVIL", "letter", "acknowledgement_within_commitment",
                     "spp_letter_acknowledgement") == (1, 2, 0.5)
    # Resolution within 10 jours ouvrés: 102 (received Tue 10 Nov, resolved Mon 16 Nov, 11 Nov
    # is a holiday: 3 business days) met, deadline 25 Nov -> November.
    assert indicator(box, "month", "2026-11-01", "ETAT_CIVIL", "email", "resolution_within_commitment",
                     "email_resolution_10bd") == (1, 1, 1.0)
    # Resolution time by date of resolution: 106 in 4 days 1 h = 4.041667 days (13 Nov);
    # 102 in 6 days 7 h = 6.291667 days (16 Nov).
    assert indicator(box, "day", "2026-11-13", "ETAT_CIVIL", "counter", "resolution_days_mean") == (1, None, 4.041667)
    assert indicator(box, "day", "2026-11-16", "ETAT_CIVIL", "email", "resolution_days_median") == (1, None, 6.291667)
    # Backlog on the night: C-2026-002 13 days old (8-14), C-2026-003 27 days (15-30); GLPI 101
    # and 103 (0-7), 104 (0-7), 109 (opened 14 Nov, 0-7), 108 (no service).
    backlog = q(box, """
        select service_code, channel, age_band, numerator from marts.ticket_indicators
        where indicator = 'backlog' order by all
    """)
    assert backlog == [
        ("ETAT_CIVIL", "email", "0-7", 1),
        ("ETAT_CIVIL", "letter", "15-30", 1),
        ("TECHNIQUE", "online", "0-7", 1),
        ("TECHNIQUE", "phone", "0-7", 1),
        ("URBANISME", "letter", "0-7", 1),
        ("URBANISME", "letter", "8-14", 1),
        (None, "online", "0-7", 1),
    ]


def test_satisfaction(marts: Any) -> None:
    box, _ = marts
    # GLPI (0-5): 102's survey (sent 16 Nov) never answered; 106's (sent 15 Nov) 4/5 satisfied.
    rows = q(box, """
        select period_start, service_code, channel, survey_scale, surveys_sent, surveys_answered,
               satisfied_answers, mean_score
        from marts.satisfaction_indicators where period_grain = 'day' order by all
    """)
    assert rows == [
        # S2 about letter C-2026-001, sent 9 Nov, never answered.
        (dt.date(2026, 11, 9), "ETAT_CIVIL", "letter", 10, 1, 0, 0, None),
        # S3 about C-2026-001, 7,5/10: answered, not satisfied (< 8).
        (dt.date(2026, 11, 10), "ETAT_CIVIL", "letter", 10, 1, 1, 0, 7.5),
        # S1 about GLPI-106 (counter), 9/10.
        (dt.date(2026, 11, 13), "ETAT_CIVIL", "counter", 10, 1, 1, 1, 9.0),
        (dt.date(2026, 11, 15), "ETAT_CIVIL", "counter", 5, 1, 1, 1, 4.0),
        (dt.date(2026, 11, 16), "ETAT_CIVIL", "email", 5, 1, 0, 0, None),
    ]
    # In ticket_indicators, scales mix through the satisfied criterion: ETAT_CIVIL counter in
    # the week of 9 Nov: 2 surveys (9/10, 4/5), both answered and satisfied.
    assert indicator(box, "week", "2026-11-09", "ETAT_CIVIL", "counter", "satisfied_share") == (2, 2, 1.0)
    assert indicator(box, "week", "2026-11-09", "ETAT_CIVIL", "letter", "survey_response_rate") == (1, 2, 0.5)


def test_reconciliation_with_glpi_delay_stats(marts: Any) -> None:
    box, _ = marts
    rows = q(box, """
        select request_ref, vigie_acknowledgement_seconds, glpi_acknowledgement_seconds,
               vigie_resolution_seconds, glpi_resolution_seconds, resolution_difference_seconds,
               glpi_counting, difference_explanation
        from marts.ticket_delay_reconciliation order by ticket_id
    """)
    assert rows == [
        # 101: 10:30 - 09:00 = 5 400 s on both sides, unresolved.
        ("GLPI-101", 5400, 5400, None, None, None, "wall_clock", "agree"),
        # 102: 300 s both; resolution 543 600 s (6 d 7 h) vs GLPI's 540 000: GLPI took out its
        # waiting_duration (3 600 s) which the status history does not show.
        ("GLPI-102", 300, 300, 543600, 540000, 3600, "wall_clock", "pending_from_status_history"),
        # 103: 16 h 45 min of wall clock (60 300 s) vs 900 s of GLPI working time.
        ("GLPI-103", 60300, 900, None, None, None, "working_calendar", "glpi_working_calendar"),
        # 106: 600 s and 349 200 s (4 d 1 h) on both sides.
        ("GLPI-106", 600, 600, 349200, 349200, 0, "wall_clock", "agree"),
    ]
