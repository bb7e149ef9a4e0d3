"""default_demo_range: 28 days ending yesterday, stretched back to cross a weekday holiday."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from vigie.config import load_config
from vigie.demo import default_demo_range

D = dt.date
PROJECT_DIR = Path(__file__).resolve().parents[2]


def _cfg(**holidays):
    cfg = load_config(PROJECT_DIR / "config" / "vigie.yml")
    hol = cfg.collectivite.holidays.model_copy(update=holidays)
    return cfg.model_copy(update={"collectivite": cfg.collectivite.model_copy(update={"holidays": hol})})


def test_range_that_holds_a_weekday_holiday_is_28_days_ending_yesterday() -> None:
    assert default_demo_range(_cfg(), D(2026, 11, 28)) == (D(2026, 10, 31), D(2026, 11, 27))


def test_range_without_weekday_holiday_is_extended_back_to_the_last_one() -> None:
    # June 2026 holds no holiday: back to Whit Monday 25 May.
    assert default_demo_range(_cfg(subdivision=None), D(2026, 7, 1)) == (D(2026, 5, 25), D(2026, 6, 30))


def test_worked_holiday_does_not_count() -> None:
    # Whit Monday worked (journée de solidarité): back to Ascension, Thursday 14 May.
    cfg = _cfg(subdivision=None, worked=[D(2026, 5, 25)])
    assert default_demo_range(cfg, D(2026, 7, 1)) == (D(2026, 5, 14), D(2026, 6, 30))


def test_weekend_holiday_does_not_count() -> None:
    # 28 days ending Sun 2027-05-02 hold 1 May 2027, a Saturday: back to Easter Monday 29 March.
    assert default_demo_range(_cfg(), D(2027, 5, 3)) == (D(2027, 3, 29), D(2027, 5, 2))
