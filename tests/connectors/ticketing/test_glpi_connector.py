"""The GLPI SQL connector on a SQLite GLPI database (tests/fixtures/glpi/build_glpi.py).

Night's day: Monday 2026-11-16; collectivité and GLPI both in Europe/Paris (UTC+1 in November);
overlap_days 1, so the window is [2026-11-15 00:00, 2026-11-17 00:00) local: a ticket lands when
its date_mod, its opening date, or a dated row landed with it (follow-up, task, solution, status
change, survey start or answer) falls in it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import zoneinfo
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, insert, text

from connectors.extract import SourceUnavailable
from connectors.landing import land_batch
from connectors.landing_schemas import TABLES_BY_SOURCE_TYPE
from connectors.pseudonymise import Pseudonymiser
from connectors.ticketing.glpi import (
    GlpiSchemaError,
    _Clock,
    glpi_window,
    make_engine,
    read_interval,
)
from connectors.ticketing.glpi_schema import glpi_metadata
from vigie.config import VigieConfig, parse_config
from vigie.intervals import night_for_day

_spec = importlib.util.spec_from_file_location(
    "build_glpi", Path(__file__).resolve().parents[2] / "fixtures" / "glpi" / "build_glpi.py"
)
assert _spec and _spec.loader
build_glpi = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_glpi)

DAY = dt.date(2026, 11, 16)
NIGHT = night_for_day(DAY, "Europe/Paris")
UTC = dt.UTC
KEY = b"h2-glpi-test-key-0123456789abcdef"
HOURS = {"monday": ["08:30-12:00"]}


def make_config(**source: Any) -> VigieConfig:
    return parse_config(
        {
            "collectivite": {
                "name": "Commune de test",
                "timezone": "Europe/Paris",
                "data_team": {"name": "Données", "email": "donnees@val-de-vigie.fr"},
            },
            "services": [{"code": "TECHNIQUE", "name": "Technique", "opening_hours": [HOURS]}],
            "sources": [
                {"id": "glpi_test", "type": "glpi_sql", "timezone": "Europe/Paris", **source}
            ],
        }
    )


def u(n: int, h: int, m: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, n, h, m, tzinfo=UTC)


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return build_glpi.build_glpi_sqlite(tmp_path / "glpi.sqlite")


@pytest.fixture()
def pseudo() -> Pseudonymiser:
    return Pseudonymiser(KEY)


@pytest.fixture()
def result(db: Path, pseudo: Pseudonymiser):
    cfg = make_config(path=str(db))
    return read_interval(cfg, cfg.sources[0], NIGHT, pseudo)


def rows(result, table: str) -> list[dict]:
    return result.tables[table].to_pylist()


def add_rows(db: Path, table: str, *records: dict[str, Any]) -> None:
    """Insert GLPI rows into the fixture database (GLPI's column defaults filled in)."""
    engine = create_engine(f"sqlite:///{db}")
    md = glpi_metadata()
    with engine.begin() as conn:
        for record in records:
            conn.execute(insert(md.tables[table]).values(**record))
    engine.dispose()


def read_night(db: Path, pseudo: Pseudonymiser, day: dt.date, **source: Any):
    cfg = make_config(path=str(db), **source)
    return read_interval(cfg, cfg.sources[0], night_for_day(day, "Europe/Paris"), pseudo)


def ticket_ids(result) -> list[int]:
    return sorted(r["id"] for r in rows(result, "glpi_tickets"))


def test_counts_and_schemas(result) -> None:
    contract = TABLES_BY_SOURCE_TYPE["glpi_sql"]
    assert set(result.tables) == set(contract)
    for name, table in result.tables.items():
        assert table.schema.equals(contract[name]), name
    # Tickets 101-106, 108 (opened 16 Nov 23:30) and 109: 8 of 9, 107 is out. Children of the
    # 7 live ones (105 is deleted): groups 2+1+1+1+1 (101, 102, 103, 106, 109; 104 and 108 have
    # none); actors 2+2+1+1+3+1 (101, 102, 103, 104, 106, 109); follow-ups 1, 2, 3 (101), 5 (102),
    # 7 (108, 16 Nov 23:59), not 4 (a Problem's) nor 6 (105's); tasks 1 and 3, not 2 (17 Nov);
    # solutions 1, 2 (102) and 3 (106); surveys of 102 and 106; status logs 1-4 (102), 6 (103),
    # 7-8 (106), not 5 (a group change) nor 9 (a Computer's).
    assert {n: t.num_rows for n, t in result.tables.items()} == {
        "glpi_tickets": 8,
        "glpi_groups_tickets": 6,
        "glpi_tickets_users": 10,
        "glpi_itilfollowups": 5,
        "glpi_tickettasks": 2,
        "glpi_itilsolutions": 3,
        "glpi_ticketsatisfactions": 2,
        "glpi_logs": 7,
    }
    assert result.rejects == []
    assert result.meta["window_glpi_local"] == ["2026-11-15 00:00:00", "2026-11-17 00:00:00"]
    assert result.meta["window_utc"] == ["2026-11-14T23:00:00+00:00", "2026-11-16T23:00:00+00:00"]
    assert result.meta["tickets_deleted"] == 1
    assert result.meta["invalid_timestamps"] == {"glpi_tickets.takeintoaccountdate": 1}


def test_ticket_window_and_deleted_tombstone(result) -> None:
    tickets = {r["id"]: r for r in rows(result, "glpi_tickets")}
    # 107 (opened 14 Nov 09:00, modified 14 Nov 23:59:59, no row in the window) is out.
    # 108's date_mod (17 Nov 00:00:00 exactly) is out, but it was opened on 16 Nov 23:30: in.
    # 109 (date_mod 15 Nov 00:00:00 exactly, opened 14 Nov 22:00) is in by its date_mod.
    # 106 (opened 9 Nov, closed 15 Nov) is in thanks to the one-day overlap.
    assert sorted(tickets) == [101, 102, 103, 104, 105, 106, 108, 109]
    assert [i for i, r in tickets.items() if r["is_deleted"]] == [105]
    for table in ("glpi_groups_tickets", "glpi_tickets_users", "glpi_tickettasks", "glpi_ticketsatisfactions"):
        assert {105, 107}.isdisjoint({r["tickets_id"] for r in rows(result, table)}), table
    for table in ("glpi_itilfollowups", "glpi_itilsolutions", "glpi_logs"):
        assert {105, 107}.isdisjoint({r["items_id"] for r in rows(result, table)}), table
    # 108 lands with its follow-up of 16 Nov 23:59 (one minute before the night's end).
    assert [(r["id"], r["items_id"]) for r in rows(result, "glpi_itilfollowups") if r["items_id"] == 108] == [
        (7, 108)
    ]


def test_timestamps_converted_to_utc(result) -> None:
    tickets = {r["id"]: r for r in rows(result, "glpi_tickets")}
    t101 = tickets[101]
    assert t101["date"] == u(16, 8)  # 09:00 Paris
    assert t101["date_mod"] == u(16, 10)  # stored as '2026-11-16T11:00:00'
    assert t101["takeintoaccountdate"] == u(16, 9, 30)
    assert t101["takeintoaccount_delay_stat"] == 5400
    assert tickets[109]["date_mod"] == dt.datetime(2026, 11, 14, 23, 0, tzinfo=UTC)
    assert tickets[104]["closedate"] is None  # MySQL zero date
    assert tickets[104]["takeintoaccountdate"] is None  # 'pas encore': counted in meta
    t102 = tickets[102]
    assert (t102["status"], t102["solvedate"], t102["waiting_duration"]) == (5, u(16, 14), 3600)
    assert (tickets[106]["status"], tickets[106]["closedate"]) == (6, u(15, 9))
    assert tickets[103]["requesttypes_id"] == 5
    assert tickets[104]["itilcategories_id"] == 11


def test_groups_current_assignment_and_ticket_without_group(result) -> None:
    groups = [(r["tickets_id"], r["groups_id"], r["type"]) for r in rows(result, "glpi_groups_tickets")]
    assert groups == [(101, 5, 2), (101, 1, 3), (102, 1, 2), (103, 2, 2), (106, 1, 2), (109, 5, 2)]
    assert 104 not in {g[0] for g in groups}


def test_users_pseudonymised(result, pseudo: Pseudonymiser) -> None:
    def user(n: int) -> str:
        return pseudo.key("glpi_user", f"glpi_test:{n}")

    actors = [(r["tickets_id"], r["users_key"], r["type"]) for r in rows(result, "glpi_tickets_users")]
    assert actors == [
        (101, user(11), 1), (101, user(20), 2), (102, user(11), 1), (102, user(21), 2),
        (103, user(12), 1), (104, None, 1), (106, user(12), 1), (106, user(20), 2),
        (106, user(21), 3), (109, user(11), 1),
    ]
    followups = [
        (r["id"], r["items_id"], r["date"], r["users_key"], r["is_private"])
        for r in rows(result, "glpi_itilfollowups")
    ]
    assert followups == [
        (1, 101, u(16, 9), user(11), 0),  # by the requester: not a response
        (2, 101, u(16, 9, 30), user(20), 1),  # private
        (3, 101, u(16, 10), user(20), 0),
        (5, 102, u(16, 8, 30), user(11), 0),  # the requester reopens 102
        (7, 108, u(16, 22, 59), user(20), 0),  # 23:59 Paris, before the night's end
    ]
    tasks = [(r["id"], r["date"], r["users_key"], r["is_private"]) for r in rows(result, "glpi_tickettasks")]
    assert tasks == [(1, u(16, 9, 15), user(20), 0), (3, u(16, 7, 50), user(21), 1)]
    solutions = [(r["items_id"], r["date_creation"], r["users_key"]) for r in rows(result, "glpi_itilsolutions")]
    assert solutions == [(102, u(12, 13), user(21)), (102, u(16, 14), user(21)), (106, u(13, 9), user(20))]


def test_reopened_ticket_status_history(result) -> None:
    logs = [(r["items_id"], r["old_value"], r["new_value"], r["date_mod"]) for r in rows(result, "glpi_logs")]
    assert logs == [
        (102, "1", "2", u(10, 7, 5)),
        (102, "2", "5", u(12, 13)),
        (102, "5", "2", u(16, 8, 30)),
        (102, "2", "5", u(16, 14)),
        (103, "1", "2", u(16, 7, 45)),
        (106, "2", "5", u(13, 9)),
        (106, "5", "6", u(15, 9)),
    ]
    assert {r["id_search_option"] for r in rows(result, "glpi_logs")} == {12}
    assert {r["itemtype"] for r in rows(result, "glpi_logs")} == {"Ticket"}


def test_satisfaction_answered_and_not(result) -> None:
    surveys = [
        (r["tickets_id"], r["type"], r["date_begin"], r["date_answered"], r["satisfaction"])
        for r in rows(result, "glpi_ticketsatisfactions")
    ]
    assert surveys == [(102, 1, u(16, 14), None, None), (106, 1, u(15, 9), u(16, 17), 4)]


def test_overlap_zero_narrows_the_window(db: Path, pseudo: Pseudonymiser) -> None:
    # Window [16 Nov 00:00, 17 Nov 00:00): 109 (date_mod 15 Nov 00:00, opened 14 Nov) drops out.
    # 106 (date_mod 15 Nov 10:00) stays only because its survey was answered on 16 Nov 18:00.
    result = read_night(db, pseudo, DAY, overlap_days=0)
    assert result.meta["window_glpi_local"] == ["2026-11-16 00:00:00", "2026-11-17 00:00:00"]
    assert ticket_ids(result) == [101, 102, 103, 104, 105, 106, 108]
    assert [r["tickets_id"] for r in rows(result, "glpi_ticketsatisfactions")] == [102, 106]
    assert 109 not in {r["tickets_id"] for r in rows(result, "glpi_groups_tickets")}
    # Without the survey answer, 106 has nothing on 16 Nov and leaves the batch.
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE glpi_ticketsatisfactions SET date_answered = NULL WHERE id = 2"))
    engine.dispose()
    assert ticket_ids(read_night(db, pseudo, DAY, overlap_days=0)) == [101, 102, 103, 104, 105, 108]


T = build_glpi.T


@pytest.mark.parametrize(
    ("opened", "modified", "lands"),
    [
        ("2026-11-15 00:00:00", "2026-11-20 09:00:00", True),  # opened at the window's start
        ("2026-11-14 23:59:59", "2026-11-20 09:00:00", False),  # opened one second before it
        ("2026-11-17 00:00:00", "2026-11-17 00:00:00", False),  # opened at the window's end
        ("2026-11-13 09:00:00", "2026-11-17 00:00:00", False),  # modified at the window's end
        ("2026-11-13 09:00:00", "2026-11-16 23:59:59", True),  # modified one second before it
    ],
)
def test_window_bounds_on_opening_and_modification(
    db: Path, pseudo: Pseudonymiser, opened: str, modified: str, lands: bool
) -> None:
    # The fixture's 107/109 pin date_mod's lower bound; these pin the other three bounds.
    add_rows(db, "glpi_tickets", build_glpi._ticket(120, date=T(opened), date_creation=T(opened), date_mod=T(modified)))
    assert ticket_ids(read_night(db, pseudo, DAY)) == sorted([101, 102, 103, 104, 105, 106, 108, 109] + [120] * lands)


def _row(**kw: Any) -> dict[str, Any]:
    return {"id": 50, **kw}


@pytest.mark.parametrize(
    ("table", "record", "lands"),
    [
        ("glpi_itilfollowups", _row(itemtype="Ticket", items_id=120, date=T("2026-11-15 00:00"), users_id=20), True),
        ("glpi_itilfollowups", _row(itemtype="Ticket", items_id=120, date=T("2026-11-14 23:59:59"), users_id=20), False),
        ("glpi_itilfollowups", _row(itemtype="Ticket", items_id=120, date=T("2026-11-17 00:00"), users_id=20), False),
        ("glpi_itilfollowups", _row(itemtype="Problem", items_id=120, date=T("2026-11-16 10:00"), users_id=20), False),
        ("glpi_tickettasks", _row(tickets_id=120, date=T("2026-11-16 10:00"), users_id=20, is_private=1), True),
        ("glpi_itilsolutions", _row(itemtype="Ticket", items_id=120, date_creation=T("2026-11-16 10:00"), users_id=20), True),
        ("glpi_logs", _row(itemtype="Ticket", items_id=120, id_search_option=12, old_value="2", new_value="4",
                           date_mod=T("2026-11-16 10:00")), True),
        ("glpi_logs", _row(itemtype="Ticket", items_id=120, id_search_option=8, old_value="a", new_value="b",
                           date_mod=T("2026-11-16 10:00")), False),  # a group change is not landed
        ("glpi_ticketsatisfactions", _row(tickets_id=120, type=1, date_begin=T("2026-11-16 10:00")), True),
        ("glpi_ticketsatisfactions", _row(tickets_id=120, type=1, date_begin=T("2026-11-05 10:00"),
                                          date_answered=T("2026-11-16 18:00"), satisfaction=5), True),
    ],
)
def test_ticket_lands_for_a_row_of_it_dated_in_the_window(
    db: Path, pseudo: Pseudonymiser, table: str, record: dict[str, Any], lands: bool
) -> None:
    # Ticket 120: opened 2 Nov, last modified 20 Nov (both outside the window), as a database
    # read after the fact shows it; one row of it dated (or not) inside [15 Nov, 17 Nov).
    add_rows(db, "glpi_tickets", build_glpi._ticket(
        120, date=T("2026-11-02 09:00"), date_creation=T("2026-11-02 09:00"), date_mod=T("2026-11-20 09:00")))
    add_rows(db, table, record)
    result = read_night(db, pseudo, DAY)
    assert (120 in ticket_ids(result)) is lands
    assert [r["id"] for r in rows(result, table) if r["id"] == 50] == [50] * lands


def add_backfilled_ticket(db: Path, answered: str | None = None) -> None:
    """Ticket 130 as a GLPI read on 20 Nov shows it: opened Friday 6 Nov 10:00, solved on
    Monday 16 Nov 15:00 (its date_mod), with a requester follow-up on the 6th and the
    solution, the agent's follow-up, a status log and a survey on the 16th; ``answered`` adds
    a public agent follow-up (id 32) in between."""
    add_rows(db, "glpi_tickets", build_glpi._ticket(
        130, date=T("2026-11-06 10:00"), date_creation=T("2026-11-06 10:00"),
        date_mod=T("2026-11-16 15:00"), solvedate=T("2026-11-16 15:00"), status=5,
        takeintoaccountdate=T("2026-11-06 10:05")))
    add_rows(db, "glpi_groups_tickets", {"id": 30, "tickets_id": 130, "groups_id": 5, "type": 2})
    add_rows(db, "glpi_tickets_users", {"id": 30, "tickets_id": 130, "users_id": 11, "type": 1},
             {"id": 31, "tickets_id": 130, "users_id": 20, "type": 2})
    follow_ups = [(30, "2026-11-06 11:00", 11), (31, "2026-11-16 14:00", 20)]
    if answered is not None:
        follow_ups.append((32, answered, 20))
    add_rows(db, "glpi_itilfollowups", *[
        {"id": i, "itemtype": "Ticket", "items_id": 130, "date": T(d), "users_id": by, "is_private": 0}
        for i, d, by in follow_ups
    ])
    add_rows(db, "glpi_logs",
             {"id": 30, "itemtype": "Ticket", "items_id": 130, "id_search_option": 12, "old_value": "1",
              "new_value": "2", "date_mod": T("2026-11-06 10:05")},
             {"id": 31, "itemtype": "Ticket", "items_id": 130, "id_search_option": 12, "old_value": "2",
              "new_value": "5", "date_mod": T("2026-11-16 15:00")})
    add_rows(db, "glpi_itilsolutions", {"id": 30, "itemtype": "Ticket", "items_id": 130,
                                        "date_creation": T("2026-11-16 15:00"), "users_id": 20})
    add_rows(db, "glpi_ticketsatisfactions", {"id": 30, "tickets_id": 130, "type": 1,
                                              "date_begin": T("2026-11-16 15:00")})


def nights_landing(db: Path, pseudo: Pseudonymiser, ticket_id: int, first: int, last: int) -> list[int]:
    return [
        n for n in range(first, last + 1)
        if ticket_id in ticket_ids(read_night(db, pseudo, dt.date(2026, 11, n)))
    ]


def children_of(result, ticket_id: int) -> dict[str, list[int]]:
    out = {}
    for name in TABLES_BY_SOURCE_TYPE["glpi_sql"]:
        if name == "glpi_tickets":
            continue
        key = "items_id" if "items_id" in result.tables[name].column_names else "tickets_id"
        out[name] = [r["id"] for r in rows(result, name) if r[key] == ticket_id]
    return out


def test_backfill_lands_a_ticket_on_its_opening_night_and_its_modification_night(
    db: Path, pseudo: Pseudonymiser
) -> None:
    add_backfilled_ticket(db)
    # Opening night 6 Nov and the next (overlap 1), solving night 16 Nov and the next; nothing
    # of 130 is dated on 8-15 Nov, so those batches leave it out (the models keep the version
    # landed on the 7th for those nights).
    assert nights_landing(db, pseudo, 130, 4, 18) == [6, 7, 16, 17]

    opening = read_night(db, pseudo, dt.date(2026, 11, 6))  # window [5 Nov, 7 Nov): only 130
    assert ticket_ids(opening) == [130]
    # Only the rows dated before 7 Nov 00:00 Paris (6 Nov 23:00Z): the requester's follow-up
    # and the 1 -> 2 status change; the agent's follow-up, solution, 2 -> 5 log and survey of
    # the 16th are not known yet. Actors and groups are undated (current) rows.
    assert children_of(opening, 130) == {
        "glpi_groups_tickets": [30], "glpi_tickets_users": [30, 31], "glpi_itilfollowups": [30],
        "glpi_tickettasks": [], "glpi_itilsolutions": [], "glpi_ticketsatisfactions": [],
        "glpi_logs": [30],
    }
    end = night_for_day(dt.date(2026, 11, 6), "Europe/Paris").end
    assert all(r["date"] < end for r in rows(opening, "glpi_itilfollowups"))
    assert all(r["date_mod"] < end for r in rows(opening, "glpi_logs"))
    # The ticket row is GLPI's current one: the models ignore its instants at or after the
    # night's as-of (solved_at 16 Nov is not known on night 6).
    t130 = rows(opening, "glpi_tickets")[0]
    assert (t130["date"], t130["status"], t130["solvedate"], t130["date_mod"]) == (u(6, 9), 5, u(16, 14), u(16, 14))

    solving = read_night(db, pseudo, DAY)
    assert ticket_ids(solving) == [101, 102, 103, 104, 105, 106, 108, 109, 130]
    assert children_of(solving, 130) == {
        "glpi_groups_tickets": [30], "glpi_tickets_users": [30, 31], "glpi_itilfollowups": [30, 31],
        "glpi_tickettasks": [], "glpi_itilsolutions": [30], "glpi_ticketsatisfactions": [30],
        "glpi_logs": [30, 31],
    }


def test_backfill_lands_a_ticket_on_the_night_it_was_answered(db: Path, pseudo: Pseudonymiser) -> None:
    add_backfilled_ticket(db, answered="2026-11-10 11:00")
    # The answer of Tuesday 10 Nov brings 130 into the batches of the 10th and 11th, so nights
    # 10-15 see it (before: only the 6 Nov follow-up, so it would look unanswered until the 16th).
    assert nights_landing(db, pseudo, 130, 4, 18) == [6, 7, 10, 11, 16, 17]
    answering = read_night(db, pseudo, dt.date(2026, 11, 10))
    # Window [9 Nov, 11 Nov): 102 opened 10 Nov 08:00, 106 opened 9 Nov 09:00 (overlap day).
    assert ticket_ids(answering) == [102, 106, 130]
    assert children_of(answering, 130)["glpi_itilfollowups"] == [30, 32]
    assert children_of(answering, 130)["glpi_itilsolutions"] == []
    assert children_of(answering, 130)["glpi_logs"] == [30]


def test_rerun_is_identical_and_database_untouched(db: Path, pseudo: Pseudonymiser, result) -> None:
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    cfg = make_config(path=str(db))
    again = read_interval(cfg, cfg.sources[0], NIGHT, pseudo)
    for name, table in result.tables.items():
        assert again.tables[name].equals(table), name
    assert again.meta == result.meta
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_landed_batch_holds_no_identifying_text(result, tmp_path: Path) -> None:
    batch = land_batch(tmp_path / "landing", "glpi_test", "glpi_sql", DAY, result)
    assert batch.row_counts["glpi_tickets"] == 8  # as in test_counts_and_schemas
    assert sorted(p.name for p in batch.path.iterdir()) == sorted(
        [f"{t}.parquet" for t in TABLES_BY_SOURCE_TYPE["glpi_sql"]]
        + ["rejects.parquet", "_batch.json"]
    )
    for path in batch.path.iterdir():
        raw = path.read_bytes()
        decoded = repr(pq.read_table(path).to_pylist()) if path.suffix == ".parquet" else ""
        for secret in build_glpi.SECRET_TEXTS + ("Note interne", "Acte envoyé", "Urbanisme (2)"):
            assert secret.encode() not in raw, (path.name, secret)
            assert secret not in decoded, (path.name, secret)


@pytest.mark.parametrize(
    ("table", "column"),
    [("glpi_itilfollowups", "is_private"), ("glpi_tickets", "takeintoaccountdate")],
)
def test_missing_column_is_named(tmp_path: Path, pseudo: Pseudonymiser, table: str, column: str) -> None:
    db = build_glpi.build_glpi_sqlite(tmp_path / "old.sqlite", drop_column=(table, column))
    cfg = make_config(path=str(db))
    with pytest.raises(GlpiSchemaError) as exc:
        read_interval(cfg, cfg.sources[0], NIGHT, pseudo)
    assert f"{table}: column(s) ['{column}'] missing" in str(exc.value)


def test_missing_table_is_named(db: Path, pseudo: Pseudonymiser) -> None:
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE glpi_ticketsatisfactions"))
    engine.dispose()
    cfg = make_config(path=str(db))
    with pytest.raises(GlpiSchemaError, match=r"\['glpi_ticketsatisfactions'\] not found"):
        read_interval(cfg, cfg.sources[0], NIGHT, pseudo)


def test_missing_sqlite_file(tmp_path: Path, pseudo: Pseudonymiser) -> None:
    cfg = make_config(path=str(tmp_path / "absent.sqlite"))
    with pytest.raises(SourceUnavailable, match="absent.sqlite does not exist"):
        read_interval(cfg, cfg.sources[0], NIGHT, pseudo)
    assert not (tmp_path / "absent.sqlite").exists()


def test_engine_from_airflow_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_GLPI_REPLICA", "mysql://vigie:s3cr%40t@db.mairie.lan:3306/glpi")
    cfg = make_config(connection_id="glpi_replica")
    engine = make_engine(cfg, cfg.sources[0])
    url = engine.url
    assert (url.drivername, url.host, url.port, url.database) == ("mysql+pymysql", "db.mairie.lan", 3306, "glpi")
    assert (url.username, url.password, url.query["charset"]) == ("vigie", "s3cr@t", "utf8mb4")
    assert "s3cr" not in str(url)
    monkeypatch.setenv("AIRFLOW_CONN_GLPI_REPLICA", '{"conn_type": "postgres", "host": "pg", "schema": "glpi"}')
    assert make_engine(cfg, cfg.sources[0]).url.drivername == "postgresql+psycopg2"
    monkeypatch.setenv("AIRFLOW_CONN_GLPI_REPLICA", "http://api.mairie.lan")
    with pytest.raises(SourceUnavailable, match="has type 'http'"):
        make_engine(cfg, cfg.sources[0])


def test_window_on_another_glpi_clock_and_across_dst() -> None:
    utc = zoneinfo.ZoneInfo("UTC")
    assert glpi_window(NIGHT, 1, utc) == (dt.datetime(2026, 11, 14, 23), dt.datetime(2026, 11, 16, 23))
    # 25 Oct 2026: the clocks go back in Paris; the night is 25 hours long.
    autumn = night_for_day(dt.date(2026, 10, 25), "Europe/Paris")
    assert glpi_window(autumn, 1, utc) == (dt.datetime(2026, 10, 23, 22), dt.datetime(2026, 10, 25, 23))
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    assert glpi_window(autumn, 0, paris) == (dt.datetime(2026, 10, 25), dt.datetime(2026, 10, 26))


def test_clock_reads_naive_glpi_time() -> None:
    clock = _Clock(zoneinfo.ZoneInfo("Europe/Paris"))
    assert clock("2026-07-01 12:00:00", "t.c") == dt.datetime(2026, 7, 1, 10, tzinfo=UTC)
    assert clock("2026-10-25 02:30:00", "t.c") == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # first 02:30
    assert clock(dt.datetime(2026, 1, 1), "t.c") == dt.datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert clock(dt.datetime(2026, 1, 1, tzinfo=UTC), "t.c") == dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert clock("0000-00-00 00:00:00", "t.c") is None
    assert clock(None, "t.c") is None
    assert clock("bientôt", "t.c") is None
    assert clock.invalid == {"t.c": 1}


def test_extract_source_dispatches_to_the_glpi_reader(db: Path, tmp_path: Path) -> None:
    from connectors.extract import extract_source
    from vigie.config import Outputs

    cfg = make_config(path=str(db)).model_copy(
        update={"outputs": Outputs(landing=str(tmp_path / "landing"))}
    )
    batch = extract_source(cfg, "glpi_test", DAY)  # key from VIGIE_PSEUDONYMISATION_KEY
    assert batch.path == tmp_path / "landing" / "glpi_test" / "day=2026-11-16"
    assert batch.row_counts["glpi_tickets"] == 8 and batch.reject_count == 0  # 107 left out


def test_request_types_override_and_extend_the_defaults() -> None:
    # A site that renamed its types keeps GLPI's ids; it adds type 7 and maps 6 to counter.
    from vigie.warehouse_config import config_rows

    cfg = make_config(path="glpi.sqlite", request_types={6: "counter", 7: "letter"})
    assert cfg.sources[0].request_types == {
        1: "online", 2: "email", 3: "phone", 4: "counter", 5: "letter", 6: "counter", 7: "letter",
    }
    rows = config_rows(cfg, DAY, DAY, run_day=DAY)["ticket_request_types"]
    assert ("glpi_test", 7, "letter") in rows and ("glpi_test", 6, "counter") in rows
    assert make_config(path="glpi.sqlite").sources[0].request_types[5] == "letter"
