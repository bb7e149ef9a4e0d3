"""Calendar facts of the demo configuration, through load_config_tables and the dbt models.

The dbt unit tests give the calendar as rows; this test checks the real chain instead:
config/vigie.yml -> config.* tables (the `holidays` package for public holidays) -> the
calendar models built by dbt on a temp warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from connectors.landing_layout import ensure_empty_landing_tables
from vigie.config import Outputs, load_config, parse_config
from vigie.transform import _failures, _run_dbt, dbt_vars
from vigie.warehouse_config import load_config_tables

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "vigie.yml"
NIGHT = dt.date(2026, 11, 28)
START, END = dt.date(2026, 9, 1), dt.date(2027, 1, 31)


@pytest.fixture(scope="module")
def calendar_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("calendar")
    cfg = load_config(DEMO_CONFIG)
    cfg = cfg.model_copy(
        update={"outputs": Outputs(warehouse=str(root / "wh" / "vigie.duckdb"), landing=str(root / "landing"))}
    )
    warehouse = root / "wh" / "vigie.duckdb"
    warehouse.parent.mkdir(parents=True)
    ensure_empty_landing_tables(root / "landing")
    con = duckdb.connect(str(warehouse))
    try:
        load_config_tables(con, cfg, START, END, run_day=NIGHT)
    finally:
        con.close()
    result = _run_dbt(
        ["run", "--select", "int_service_days_classified", "int_service_opening_intervals",
         "--vars", json.dumps(dbt_vars(cfg, NIGHT))],
        warehouse,
    )
    assert result.success, _failures(result) or result.exception
    return warehouse


def _day(warehouse: Path, service: str, day: dt.date) -> dict:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute(
            "select * from intermediate.int_service_days_classified where service_code = ? and local_date = ?",
            [service, day],
        )
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        con.close()
    assert len(rows) == 1
    return dict(zip(cols, rows[0], strict=True))


def test_armistice_and_its_bridge_are_not_business_days(calendar_warehouse: Path) -> None:
    armistice = _day(calendar_warehouse, "ETAT_CIVIL", dt.date(2026, 11, 11))
    assert (armistice["is_public_holiday"], armistice["holiday_name"]) == (True, "Armistice")
    assert (armistice["is_business_day"], armistice["is_working_day"]) == (False, False)
    bridge = _day(calendar_warehouse, "URBANISME", dt.date(2026, 11, 10))
    assert (bridge["is_closed"], bridge["closure_reason"]) == (True, "Pont du 11 novembre")
    assert (bridge["is_business_day"], bridge["is_working_day"]) == (False, False)
    # Mon 9 -> Thu 12 November: one business day apart (10 and 11 take Thursday's index)
    monday = _day(calendar_warehouse, "ETAT_CIVIL", dt.date(2026, 11, 9))
    thursday = _day(calendar_warehouse, "ETAT_CIVIL", dt.date(2026, 11, 12))
    assert thursday["business_day_index"] - monday["business_day_index"] == 1
    assert bridge["business_day_index"] == _day(calendar_warehouse, "URBANISME", dt.date(2026, 11, 12))["business_day_index"]


def test_saturday_is_a_working_day_not_a_business_day(calendar_warehouse: Path) -> None:
    saturday = _day(calendar_warehouse, "URBANISME", dt.date(2026, 11, 14))
    assert (saturday["is_business_day"], saturday["is_working_day"]) == (False, True)
    sunday = _day(calendar_warehouse, "URBANISME", dt.date(2026, 11, 15))
    assert (sunday["is_business_day"], sunday["is_working_day"]) == (False, False)


def test_service_closure_only_closes_that_service(calendar_warehouse: Path) -> None:
    assert _day(calendar_warehouse, "CCAS", dt.date(2026, 11, 20))["is_business_day"] is False
    assert _day(calendar_warehouse, "ETAT_CIVIL", dt.date(2026, 11, 20))["is_business_day"] is True


def test_opening_hours_do_not_change_which_days_are_business_days(calendar_warehouse: Path) -> None:
    # ENFANCE has no opening hours on Wednesdays: Wednesday is still a jour ouvré
    wednesday = _day(calendar_warehouse, "ENFANCE", dt.date(2026, 11, 18))
    assert wednesday["is_business_day"] is True


def test_opening_intervals_across_the_october_dst_change(calendar_warehouse: Path) -> None:
    con = duckdb.connect(str(calendar_warehouse), read_only=True)
    try:
        rows = con.execute(
            """
            select local_date, strftime(interval_start_at at time zone 'UTC', '%Y-%m-%d %H:%M'),
                   strftime(interval_end_at at time zone 'UTC', '%Y-%m-%d %H:%M'), open_minutes
            from intermediate.int_service_opening_intervals
            where service_code = 'ACCUEIL' and local_date between '2026-10-24' and '2026-10-26'
            order by interval_start_at
            """
        ).fetchall()
        cum = con.execute(
            """
            select cum_minutes_before from intermediate.int_service_opening_intervals
            where service_code = 'ACCUEIL' and local_date between '2026-10-24' and '2026-10-26'
            order by interval_start_at
            """
        ).fetchall()
    finally:
        con.close()
    assert rows == [
        # Saturday 24 October 09:00-12:00 CEST (+02)
        (dt.date(2026, 10, 24), "2026-10-24 07:00", "2026-10-24 10:00", 180),
        # Sunday 25: closed. Monday 26 08:00-12:30 and 13:30-18:00 CET (+01)
        (dt.date(2026, 10, 26), "2026-10-26 07:00", "2026-10-26 11:30", 270),
        (dt.date(2026, 10, 26), "2026-10-26 12:30", "2026-10-26 17:00", 270),
    ]
    assert [c[0] - cum[0][0] for c in cum] == [0, 180, 450]


@pytest.mark.parametrize(
    ("subdivision", "day", "is_holiday"),
    [
        ("57", dt.date(2026, 4, 3), True),  # Good Friday, Moselle
        ("57", dt.date(2026, 12, 26), True),  # Saint-Étienne, Moselle
        ("67", dt.date(2026, 4, 3), True),  # Bas-Rhin, through the 6AE alias
        ("68", dt.date(2026, 4, 3), True),  # Haut-Rhin, through the 6AE alias
        ("68", dt.date(2026, 12, 26), True),
        ("971", dt.date(2026, 5, 27), True),  # Guadeloupe, abolition of slavery
        ("972", dt.date(2026, 5, 22), True),  # Martinique
        ("973", dt.date(2026, 6, 10), True),  # Guyane
        ("976", dt.date(2026, 4, 27), True),  # Mayotte
        ("972", dt.date(2026, 5, 27), False),  # each department has its own day
        (None, dt.date(2026, 4, 3), False),  # not in Paris
        (None, dt.date(2026, 12, 26), False),
        ("974", dt.date(2026, 12, 20), True),  # La Réunion, abolition of slavery
        (None, dt.date(2026, 12, 20), False),
        (None, dt.date(2026, 5, 25), True),  # Whit Monday
        (None, dt.date(2026, 5, 14), True),  # Ascension
    ],
)
def test_public_holidays_by_subdivision(subdivision: str | None, day: dt.date, is_holiday: bool) -> None:
    data = {
        "collectivite": {
            "name": "Test",
            "holidays": {"subdivision": subdivision, "worked": ["2026-05-25"]},
            "data_team": {"name": "Data", "email": "data@example.fr"},
        },
        "services": [{"code": "S1", "name": "S", "opening_hours": [{"monday": ["08:00-12:00"]}]}],
    }
    cfg = parse_config(data)
    con = duckdb.connect()
    load_config_tables(con, cfg, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    rows = con.execute("select holiday_on, is_worked from config.public_holidays where holiday_on = ?", [day]).fetchall()
    assert bool(rows) is is_holiday
    if rows:
        assert rows[0][1] is (day == dt.date(2026, 5, 25))


def _holiday_rows(subdivision: str | None, worked: list[str] | None = None) -> list[tuple[dt.date, str, bool]]:
    data = {
        "collectivite": {
            "name": "Test",
            "holidays": {"subdivision": subdivision, "worked": worked or []},
            "data_team": {"name": "Data", "email": "data@example.fr"},
        },
        "services": [{"code": "S1", "name": "S", "opening_hours": [{"monday": ["08:00-12:00"]}]}],
    }
    con = duckdb.connect()
    load_config_tables(con, parse_config(data), dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    return con.execute(
        "select holiday_on, holiday_name, is_worked from config.public_holidays "
        "where year(holiday_on) = 2026 order by holiday_on"
    ).fetchall()


# The 11 national days of 2026 (domain.md §4), with the `holidays` package's French names.
NATIONAL_2026 = {
    dt.date(2026, 1, 1): "Jour de l'an",
    dt.date(2026, 4, 6): "Lundi de Pâques",
    dt.date(2026, 5, 1): "Fête du Travail",
    dt.date(2026, 5, 8): "Fête de la Victoire",
    dt.date(2026, 5, 14): "Ascension",
    dt.date(2026, 5, 25): "Lundi de Pentecôte",
    dt.date(2026, 7, 14): "Fête nationale",
    dt.date(2026, 8, 15): "Assomption",
    dt.date(2026, 11, 1): "Toussaint",
    dt.date(2026, 11, 11): "Armistice",
    dt.date(2026, 12, 25): "Noël",
}
ALSACE_MOSELLE_2026 = {dt.date(2026, 4, 3): "Vendredi saint", dt.date(2026, 12, 26): "Saint-Étienne"}


@pytest.mark.parametrize(
    ("subdivision", "extra_days"),
    [
        (None, {}),
        ("57", ALSACE_MOSELLE_2026),
        ("67", ALSACE_MOSELLE_2026),
        ("68", ALSACE_MOSELLE_2026),
        # Guadeloupe: domain.md names 27 May; the package also has Mi-Carême (Thursday of the
        # 3rd week of Lent), Good Friday and Victor Schœlcher day (DECISIONLOG Part 2 › Calendar)
        (
            "971",
            {
                dt.date(2026, 3, 12): "Mi-Carême",
                dt.date(2026, 4, 3): "Vendredi saint",
                dt.date(2026, 5, 27): "Abolition de l'esclavage",
                dt.date(2026, 7, 21): "Fête de Victor Schoelcher",
            },
        ),
        # Martinique: 22 May, and Victor Schœlcher day
        (
            "972",
            {
                dt.date(2026, 5, 22): "Abolition de l'esclavage",
                dt.date(2026, 7, 21): "Fête de Victor Schoelcher",
            },
        ),
        ("973", {dt.date(2026, 6, 10): "Abolition de l'esclavage"}),  # Guyane
        ("974", {dt.date(2026, 12, 20): "Abolition de l'esclavage"}),  # La Réunion
        ("976", {dt.date(2026, 4, 27): "Abolition de l'esclavage"}),  # Mayotte
    ],
)
def test_public_holidays_2026_exact_list_by_subdivision(
    subdivision: str | None, extra_days: dict[dt.date, str]
) -> None:
    """Every 2026 holiday of the subdivision, no more, no less: a `holidays` upgrade that adds
    or moves a day fails here and gets a DECISIONLOG line before it changes a deadline."""
    expected = sorted({**NATIONAL_2026, **extra_days}.items())
    assert _holiday_rows(subdivision) == [(day, name, False) for day, name in expected]


def test_a_package_holiday_the_collectivite_works_is_declared_worked() -> None:
    """Guadeloupe's Mi-Carême and Victor Schœlcher day stay in the list, marked worked, when
    the collectivité declares them in `holidays.worked` (it then counts them as normal days)."""
    rows = {day: is_worked for day, _, is_worked in _holiday_rows("971", ["2026-03-12", "2026-07-21"])}
    assert len(rows) == 15
    assert [day for day, is_worked in rows.items() if is_worked] == [dt.date(2026, 3, 12), dt.date(2026, 7, 21)]
