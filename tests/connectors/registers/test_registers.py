"""Courrier register and survey exports: CSV (Windows-1252 / UTF-8 with BOM) and XLSX.

Night's day: Monday 2026-11-16, Europe/Paris (UTC+1): the night ends 2026-11-16T23:00Z.
The files are written by the tests with explicit bytes so the encodings are the real ones.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from connectors.landing import land_batch
from connectors.landing_schemas import TABLES_BY_SOURCE_TYPE
from connectors.pseudonymise import Pseudonymiser
from connectors.registers import request_register, satisfaction_survey
from connectors.registers.tabular import TableLayoutError, parse_decimal, parse_instant
from vigie.config import VigieConfig, parse_config
from vigie.intervals import night_for_day

DAY = dt.date(2026, 11, 16)
NIGHT = night_for_day(DAY, "Europe/Paris")
PSEUDO = Pseudonymiser(b"h11-register-test-key-0123456789")
UTC = dt.UTC

REGISTER_COLUMNS = {
    "request_id": "N° enregistrement", "received_at": "Date d'arrivée", "requester": "Expéditeur",
    "service": "Service", "channel": "Canal", "category": "Nature",
    "acknowledged_at": "Date accusé", "first_response_at": "Date de réponse",
    "resolved_at": "Date de clôture",
}
# Line numbers (the header is line 1): 001 line 2; 002 lines 3-4 (a quoted object on two
# lines); 003 line 5 (31 November); no id line 6; 001 again line 7; 004 line 8; 005 line 9
# (received the 17th); 006 line 10 (answer 'pas encore'); a blank ';;;' line 11.
REGISTER_CSV = (
    "N° enregistrement;Date d'arrivée;Expéditeur;Objet;Service;Canal;Nature;Date accusé;"
    "Date de réponse;Date de clôture\r\n"
    "C-2026-001;02/11/2026;Jeanne Dupont;Demande d'acte;État civil;Courrier;Demande;04/11/2026;"
    "06/11/2026 10:30;06/11/2026\r\n"
    "C-2026-002;03/11/2026 14:05;Paul Martin;\"Réclamation\r\nvoirie\";Urbanisme;Courriel;"
    "Réclamation;;;\r\n"
    "C-2026-003;31/11/2026;Léa Roux;Objet;État civil;Courrier;Demande;;;\r\n"
    ";05/11/2026;Léa Roux;Objet;État civil;Courrier;Demande;;;\r\n"
    "C-2026-001;05/11/2026;Léa Roux;Objet;État civil;Courrier;Demande;;;\r\n"
    "C-2026-004;16/11/2026 09:00;Jeanne  DUPONT;Objet;Service inconnu;Fax;Demande;;17/11/2026;\r\n"
    "C-2026-005;17/11/2026;Léa Roux;Objet;État civil;Courrier;Demande;;;\r\n"
    "C-2026-006;02/11/2026;Léa Roux;Objet;État civil;Courrier;Demande;03/11/2026;pas encore;\r\n"
    ";;;;;;;;;\r\n"
)


def make_config(tmp_path: Path, *sources: dict[str, Any]) -> VigieConfig:
    return parse_config(
        {
            "collectivite": {
                "name": "Commune de test",
                "timezone": "Europe/Paris",
                "data_team": {"name": "Données", "email": "donnees@val-de-vigie.fr"},
            },
            "services": [
                {"code": c, "name": c, "opening_hours": [{"monday": ["08:30-12:00"]}]}
                for c in ("ETAT_CIVIL", "URBANISME")
            ],
            "sources": list(sources),
        }
    ).model_copy(update={"base_dir": tmp_path})


def register_source(path: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": "courrier", "type": "request_register", "path": path, "columns": REGISTER_COLUMNS,
        "services": {"État civil": "ETAT_CIVIL", "Urbanisme": "URBANISME"},
        "channels": {"Courrier": "letter", "Courriel": "email"},
        "complaint_values": ["réclamation"], **kw,
    }


def read_register(tmp_path: Path, name: str, **kw: Any):
    cfg = make_config(tmp_path, register_source(name, **kw))
    return request_register.read_interval(cfg, cfg.sources[0], NIGHT, PSEUDO)


def test_register_csv_in_windows_1252(tmp_path: Path) -> None:
    (tmp_path / "courrier.csv").write_bytes(REGISTER_CSV.encode("cp1252"))
    result = read_register(tmp_path, "courrier.csv")
    rows = {r["request_id"]: r for r in result.tables["register_requests"].to_pylist()}
    assert sorted(rows) == ["C-2026-001", "C-2026-002", "C-2026-004"]
    c1, c2, c4 = rows["C-2026-001"], rows["C-2026-002"], rows["C-2026-004"]
    # 02/11 (date only) = 00:00 Paris; the answer 06/11 10:30 Paris; the acknowledgement and
    # the closing, dates only, are the last second of their day.
    assert c1["received_at"] == dt.datetime(2026, 11, 1, 23, tzinfo=UTC)
    assert c1["acknowledged_at"] == dt.datetime(2026, 11, 4, 22, 59, 59, tzinfo=UTC)
    assert c1["first_response_at"] == dt.datetime(2026, 11, 6, 9, 30, tzinfo=UTC)
    assert c1["resolved_at"] == dt.datetime(2026, 11, 6, 22, 59, 59, tzinfo=UTC)
    assert (c1["channel"], c1["service_code"], c1["is_complaint"], c1["source_line"]) == (
        "letter", "ETAT_CIVIL", False, 2)
    assert (c2["channel"], c2["service_code"], c2["category"], c2["is_complaint"]) == (
        "email", "URBANISME", "Réclamation", True)
    assert c2["received_at"] == dt.datetime(2026, 11, 3, 13, 5, tzinfo=UTC)
    # Unknown channel 'Fax' -> default letter; unknown service -> null (no default_service);
    # the answer of the 17th is not known on night 16.
    assert (c4["channel"], c4["channel_value"], c4["service_code"], c4["service_value"]) == (
        "letter", "Fax", None, "Service inconnu")
    assert c4["first_response_at"] is None and c4["source_line"] == 8
    # Same requester, spelt differently: same key; never the name.
    assert c4["requester_key"] == c1["requester_key"] != c2["requester_key"]
    assert [(r.source_position, r.reason) for r in result.rejects] == [
        ("line 5", "column \"Date d'arrivée\": not a valid calendar date"),
        ("line 6", "no request id (column 'N° enregistrement' is empty)"),
        ("line 7", "request id already on line/row 2 of this export"),
        ("line 10", "column 'Date de réponse': not a date (expected JJ/MM/AAAA or JJ/MM/AAAA HH:MM)"),
    ]
    assert result.meta["rows"] == {
        "read": 8, "received_after_night": 1, "before_lookback": 0, "instants_after_night": 1}
    assert result.meta["unmapped_service_values"] == 1


def test_register_landed_batch_holds_no_identity(tmp_path: Path) -> None:
    (tmp_path / "courrier.csv").write_bytes(REGISTER_CSV.encode("utf-8-sig"))
    result = read_register(tmp_path, "courrier.csv")
    assert result.tables["register_requests"].num_rows == 3  # UTF-8 with BOM reads the same
    batch = land_batch(tmp_path / "landing", "courrier", "request_register", DAY, result)
    assert batch.row_counts == {"register_requests": 3} and batch.reject_count == 4
    for path in batch.path.iterdir():
        raw = path.read_bytes()
        text = repr(pq.read_table(path).to_pylist()) if path.suffix == ".parquet" else raw.decode()
        for secret in ("Jeanne", "Dupont", "DUPONT", "Paul Martin", "Léa", "Demande d'acte", "voirie"):
            assert secret.encode() not in raw and secret not in text, (path.name, secret)


def test_register_xlsx_rows_and_cells(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Registre"
    ws.append(["N° enregistrement", "Date d'arrivée", "Expéditeur", "Service", "Canal", "Nature",
               "Date accusé", "Date de réponse", "Date de clôture"])
    ws.append([2026412, dt.datetime(2026, 11, 9, 14, 5), "A", "Urbanisme", "Courrier", None,
               dt.date(2026, 11, 10), "12/11/2026 16:00", None])  # row 2
    ws.append([None, None, None, None, None, None, None, None, None])  # row 3: blank, skipped
    ws.append(["X-9", "demain", "B", "Urbanisme", "Courrier", None, None, None, None])  # row 4
    wb.save(tmp_path / "registre.xlsx")
    result = read_register(tmp_path, "*.xlsx", sheet="Registre")
    [row] = result.tables["register_requests"].to_pylist()
    assert row["request_id"] == "2026412"  # an Excel number, not '2026412.0'
    assert row["received_at"] == dt.datetime(2026, 11, 9, 13, 5, tzinfo=UTC)
    assert row["acknowledged_at"] == dt.datetime(2026, 11, 10, 22, 59, 59, tzinfo=UTC)
    assert row["first_response_at"] == dt.datetime(2026, 11, 12, 15, tzinfo=UTC)
    assert row["source_line"] == 2
    assert [(r.source_file, r.source_position) for r in result.rejects] == [("registre.xlsx", "row 4")]


def test_register_layout_errors_are_loud(tmp_path: Path) -> None:
    (tmp_path / "courrier.csv").write_bytes(REGISTER_CSV.replace("Date accusé", "Accusé").encode("cp1252"))
    with pytest.raises(TableLayoutError, match=r"no column columns.acknowledged_at = 'Date accusé'"):
        read_register(tmp_path, "courrier.csv")
    with pytest.raises(TableLayoutError, match="no export file matches"):
        read_register(tmp_path, "absent/*.csv")


SURVEY_CSV = (
    "Identifiant;Envoyé le;Répondu le;Note (0-10);Référence;Service\n"
    "S1;10/11/2026;10/11/2026 18:00;9;GLPI-102;\n"          # line 2
    "S2;10/11/2026;;;C-2026-001;\n"                           # line 3: never answered
    "S3;11/11/2026;12/11/2026;7,5;;État civil\n"              # line 4: decimal comma
    "S4;11/11/2026;12/11/2026;11;;État civil\n"               # line 5: outside 0-10
    "S5;12/11/2026;17/11/2026;8;;État civil\n"                # line 6: answered after the night
    "S6;12/11/2026;12/11/2026;bien;;État civil\n"             # line 7: not a number
)


def test_survey_csv_scores_and_rejects(tmp_path: Path) -> None:
    (tmp_path / "enquete.csv").write_bytes(SURVEY_CSV.encode("utf-8-sig"))
    cfg = make_config(tmp_path, {
        "id": "enquete", "type": "satisfaction_survey", "path": "enquete.csv",
        "columns": {"response_id": "Identifiant", "sent_at": "Envoyé le", "answered_at": "Répondu le",
                    "score": "Note (0-10)", "request_ref": "Référence", "service": "Service"},
        "services": {"État civil": "ETAT_CIVIL"}, "default_channel": "online",
    })
    result = satisfaction_survey.read_interval(cfg, cfg.sources[0], NIGHT, PSEUDO)
    got = [(r["response_id"], r["score"], r["request_ref"], r["service_code"], r["answered_at"])
           for r in result.tables["survey_responses"].to_pylist()]
    assert got == [
        ("S1", 9.0, "GLPI-102", None, dt.datetime(2026, 11, 10, 17, tzinfo=UTC)),
        ("S2", None, "C-2026-001", None, None),
        ("S3", 7.5, None, "ETAT_CIVIL", dt.datetime(2026, 11, 12, 22, 59, 59, tzinfo=UTC)),
        ("S5", None, None, "ETAT_CIVIL", None),
    ]
    assert [(r.source_position, r.reason) for r in result.rejects] == [
        ("line 5", "column 'Note (0-10)': score outside 0-10"),
        ("line 7", "column 'Note (0-10)': not a number"),
    ]
    assert result.meta["rows"]["answers_after_night"] == 1


def test_french_values() -> None:
    paris = NIGHT.tz
    assert parse_instant("28/11/2026", paris) == dt.datetime(2026, 11, 27, 23, tzinfo=UTC)
    assert parse_instant("28/11/2026 14:05", paris) == dt.datetime(2026, 11, 28, 13, 5, tzinfo=UTC)
    assert parse_instant("1/7/2026 9h30", paris) == dt.datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    assert parse_instant("2026-11-28", paris, end_of_day=True) == dt.datetime(2026, 11, 28, 22, 59, 59, tzinfo=UTC)
    for bad in ("29/02/2026", "28-11-2026", "11/28/2026"):
        with pytest.raises(ValueError):
            parse_instant(bad, paris)
    assert parse_decimal("4,5") == 4.5
    assert parse_decimal("1\u202f234,5") == 1234.5
    assert parse_decimal(" 8 ") == 8.0
    with pytest.raises(ValueError):
        parse_decimal("4,5,6")


def test_landing_contract_lists_both_types() -> None:
    assert set(TABLES_BY_SOURCE_TYPE["request_register"]) == {"register_requests"}
    assert set(TABLES_BY_SOURCE_TYPE["satisfaction_survey"]) == {"survey_responses"}


def test_calendar_covers_the_oldest_register_letter(tmp_path: Path) -> None:
    # A register first landed on 16 Nov 2026 holds a letter of 20 Oct 2025 (within the 400-day
    # lookback): the night's calendar must start 31 days before it, not before 16 Nov.
    from vigie.config import Outputs
    from vigie.warehouse_config import calendar_range

    (tmp_path / "old.csv").write_bytes(
        "N° enregistrement;Date d'arrivée\r\nC-1;20/10/2025\r\nC-2;10/11/2026\r\n".encode("cp1252")
    )
    cfg = make_config(tmp_path, {
        "id": "courrier", "type": "request_register", "path": "old.csv",
        "columns": {"request_id": "N° enregistrement", "received_at": "Date d'arrivée"},
    })
    cfg = cfg.model_copy(update={"outputs": Outputs(landing=str(tmp_path / "landing"))})
    result = request_register.read_interval(cfg, cfg.sources[0], NIGHT, PSEUDO)
    land_batch(tmp_path / "landing", "courrier", "request_register", DAY, result)
    assert calendar_range(cfg, DAY) == (dt.date(2025, 9, 19), dt.date(2027, 12, 21))
