"""The demo GLPI SQLite: GLPI's tables and columns (reflected through SQLAlchemy), realistic tickets."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
import sqlalchemy as sa

from connectors.landing_schemas import TABLES_BY_SOURCE_TYPE

REFERENCE_TABLES = {"glpi_requesttypes", "glpi_groups", "glpi_itilcategories", "glpi_users"}


@pytest.fixture(scope="module")
def engine(demo):
    cfg, _ = demo
    eng = sa.create_engine(f"sqlite:///{cfg.path(cfg.sources_of('glpi_sql')[0].path)}")
    yield eng
    eng.dispose()


def _all(engine, sql: str) -> list[tuple]:
    with engine.connect() as con:
        return [tuple(r) for r in con.execute(sa.text(sql))]


def test_tables_and_columns_of_the_landing_contract_exist(engine) -> None:
    md = sa.MetaData()
    with warnings.catch_warnings():  # the SQLite indexes on datetime(col) are not reflected
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        md.reflect(engine)
    contract = TABLES_BY_SOURCE_TYPE["glpi_sql"]
    assert set(contract) | REFERENCE_TABLES == set(md.tables)
    for name, schema in contract.items():
        columns = set(md.tables[name].c.keys())
        for field in schema.names:
            if field == "source_id":
                continue
            glpi_name = field.removesuffix("_key") + "_id" if field.endswith("users_key") else field
            assert glpi_name in columns, f"{name}.{glpi_name}"
    assert isinstance(md.tables["glpi_tickets"].c.date_mod.type, sa.TIMESTAMP)
    # Reflected TIMESTAMP columns come back as naive datetimes (GLPI's zone is configuration).
    with engine.connect() as con:
        first = con.execute(sa.select(md.tables["glpi_tickets"].c.date).order_by(sa.text("id")).limit(1)).scalar()
    assert isinstance(first, dt.datetime) and first.tzinfo is None


def test_reference_rows(engine) -> None:
    assert _all(engine, "select id, name from glpi_requesttypes order by id") == [
        (1, "Helpdesk"), (2, "E-Mail"), (3, "Phone"), (4, "Direct"), (5, "Written"), (6, "Other")]
    assert [r[0] for r in _all(engine, "select id from glpi_groups order by id")] == [1, 2, 3, 4, 5, 6]
    cats = dict(_all(engine, "select id, completename from glpi_itilcategories"))
    assert {10, 11} <= set(cats) and len(cats) > 2
    assert any(" > " in name for name in cats.values())


def test_tickets_cover_every_request_type_and_lifecycle(engine) -> None:
    by_type = dict(_all(engine, "select requesttypes_id, count(*) from glpi_tickets group by 1"))
    assert set(by_type) >= {1, 2, 3, 4, 5}
    assert _all(engine, "select count(*) from glpi_tickets where is_deleted = 1") == [(1,)]
    statuses = {r[0] for r in _all(engine, "select distinct status from glpi_tickets")}
    assert statuses >= {1, 2, 4, 5, 6}
    no_group = _all(engine, """select t.id, t.itilcategories_id from glpi_tickets t
        where not exists (select 1 from glpi_groups_tickets g where g.tickets_id = t.id)""")
    assert len(no_group) == 1 and no_group[0][1] in (10, 11)
    # takeintoaccountdate: usually within two days of opening
    delays = [r[0] for r in _all(engine, """select julianday(takeintoaccountdate) - julianday(date)
        from glpi_tickets where takeintoaccountdate is not null""")]
    assert sum(d <= 4 for d in delays) / len(delays) > 0.95
    # pending tickets: waiting time accumulated, or a pending period still open
    assert _all(engine, "select count(*) from glpi_tickets where waiting_duration > 0")[0][0] > 0
    assert _all(engine, """select count(*) from glpi_tickets where status = 4
        and begin_waiting_date is not null""")[0][0] > 0


def test_followups_public_private_and_by_the_requester(engine) -> None:
    rows = _all(engine, """select f.is_private, f.users_id = tu.users_id from glpi_itilfollowups f
        join glpi_tickets_users tu on tu.tickets_id = f.items_id and tu.type = 1""")
    kinds = set(rows)
    assert {(0, 0), (1, 0), (0, 1)} <= kinds


def test_date_mod_is_the_last_change(engine) -> None:
    late = _all(engine, """select t.id from glpi_tickets t where exists (
        select 1 from glpi_itilfollowups f where f.items_id = t.id and f.date > t.date_mod
        union all select 1 from glpi_itilsolutions s where s.items_id = t.id and s.date_creation > t.date_mod
        union all select 1 from glpi_logs l where l.items_id = t.id and l.date_mod > t.date_mod)""")
    assert late == []


def test_status_history_and_satisfaction(engine) -> None:
    logs = _all(engine, "select old_value, new_value from glpi_logs where id_search_option = 12")
    assert ("1", "2") in logs and ("2", "4") in logs and ("4", "2") in logs and ("5", "6") in logs
    sat = _all(engine, "select satisfaction, date_answered from glpi_ticketsatisfactions")
    answered = [s for s, d in sat if d is not None]
    assert answered and all(0 <= s <= 5 for s in answered)
    assert any(s is None and d is None for s, d in sat)  # surveys nobody answered


def test_calendar_edge_cases(engine) -> None:
    opened = {r[0] for r in _all(engine, "select date(date) from glpi_tickets")}
    assert "2026-11-09" in opened  # the business day before the pont and 11 November
    saturday_answers = _all(engine, """select count(*) from glpi_itilfollowups
        where is_private = 0 and strftime('%w', date) = '6'""")
    assert saturday_answers[0][0] >= 1
    assert _all(engine, "select max(date_mod) from glpi_tickets")[0][0] < "2026-11-28 00:00:00"
