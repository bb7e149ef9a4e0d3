"""extract_source: the night's local day, dispatch, and clear failures."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.extract import SourceUnavailable, extract_source
from vigie.intervals import night_for_day


@pytest.mark.parametrize(
    ("day", "hours", "start_utc"),
    [
        (dt.date(2026, 10, 25), 25, dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC)),  # CEST -> CET
        (dt.date(2026, 3, 29), 23, dt.datetime(2026, 3, 28, 23, tzinfo=dt.UTC)),  # CET -> CEST
        (dt.date(2026, 11, 2), 24, dt.datetime(2026, 11, 1, 23, tzinfo=dt.UTC)),
    ],
)
def test_night_is_local_midnight_to_midnight(day, hours, start_utc):
    night = night_for_day(day, "Europe/Paris")
    assert night.start_utc == start_utc
    assert night.end_utc - night.start_utc == dt.timedelta(hours=hours)


def test_the_25_hour_day_lands_its_last_hour(telephony_cfg):
    """An event at 23:30 local on 2026-10-25 is 22:30Z: inside only if the day has 25 hours."""
    batch = extract_source(telephony_cfg(), "pbx_queue_log", dt.date(2026, 10, 25))
    assert batch.row_counts == {"queue_log_events": 25}


def test_overseas_zone_shifts_the_night(telephony_cfg):
    # Martinique is UTC-4: its 2026-10-24 is [2026-10-24 04:00Z, 2026-10-25 04:00Z), holding
    # every fixture event from 1792875600 (21:00Z on the 24th) up to 1792886100 (23:55Z).
    batch = extract_source(
        telephony_cfg(zone="America/Martinique"), "pbx_queue_log", dt.date(2026, 10, 24)
    )
    assert batch.row_counts == {"queue_log_events": 24}
    assert batch.reject_count == 2


def test_unknown_source_lists_the_configured_ones(telephony_cfg):
    with pytest.raises(KeyError, match=r"no source 'pbx_nope'.*'pbx_queue_log', 'pbx_cdr'"):
        extract_source(telephony_cfg(), "pbx_nope", dt.date(2026, 10, 25))


def test_missing_file_names_source_path_and_fix(telephony_cfg, asterisk_dir):
    (asterisk_dir / "cdr" / "Master.csv").unlink()
    with pytest.raises(
        SourceUnavailable,
        match=r"source 'pbx_cdr': no Master.csv file matches .*check the source's 'path'",
    ):
        extract_source(telephony_cfg(), "pbx_cdr", dt.date(2026, 10, 25))
