"""The year's record for audits (issue 15 item 2), from a small real run (audit_site.py): what the
history keeps, then the report read back and compared with the warehouse, before and after the
retention purge (vigie/history.py, vigie.results.audit_report)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from audit_site import NIGHT, audit_config, land_months

from vigie.config import VigieConfig
from vigie.history import record_history
from vigie.transform import run_transform


def _read(cfg: VigieConfig, sql: str) -> list[tuple]:
    con = duckdb.connect(str(cfg.path(cfg.outputs.warehouse)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> VigieConfig:
    cfg = audit_config(tmp_path_factory.mktemp("audit"))
    land_months(cfg)
    run_transform(cfg, NIGHT)
    return cfg


HISTORY_TABLES = ("history.service_indicators", "history.exclusion_reasons", "history.commitment_versions")


def test_history_keeps_exclusion_reasons_recoveries_and_versions(site: VigieConfig) -> None:
    months = _read(site, "select exclusion_reason, period_start, requests from history.exclusion_reasons "
                         "where period_grain = 'month' order by all")
    assert months == [("auto_reply", dt.date(2026, 1, 1), 1), ("bounce", dt.date(2026, 3, 1), 1),
                      ("spam", dt.date(2026, 1, 1), 1)]
    # the reasons of every final cell add up to its requests_excluded row
    assert _read(site, """
        select i.period_grain, i.period_start, i.numerator, coalesce(sum(e.requests), 0)
        from history.service_indicators as i
        left join history.exclusion_reasons as e using (period_grain, period_start, service_code, channel)
        where i.indicator = 'requests_excluded' group by all
        having i.numerator <> coalesce(sum(e.requests), 0)""") == []
    # the alert rules' recovery: March (4/5 = 80 % under version 2) after February's breach
    assert _read(site, "select period_grain, period_start, numerator, denominator, threshold "
                       "from history.service_indicators where is_recovery") == [
        ("month", dt.date(2026, 3, 1), 4, 5, 0.8)]
    assert _read(site, "select commitment_version, threshold, valid_to, first_recorded_on "
                       "from history.commitment_versions order by all") == [
        (dt.date(2000, 1, 1), 0.9, dt.date(2026, 3, 1), NIGHT), (dt.date(2026, 3, 1), 0.8, None, NIGHT)]
    # the history step of a rerun writes the same tables
    before = {t: _read(site, f"select * from {t} order by all") for t in HISTORY_TABLES}
    record_history(site, NIGHT)
    assert {t: _read(site, f"select * from {t} order by all") for t in HISTORY_TABLES} == before
