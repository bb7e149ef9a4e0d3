"""Retention: landed batches purged after ``retention.landed_days``; final indicators kept in
``history.service_indicators`` for audits (vigie/retention.py, vigie/transform.py;
DECISIONLOG Part 6 "Retention").
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from h5_builders import land, make_config

from vigie.config import ConfigError, Retention, VigieConfig, parse_config
from vigie.retention import history_frozen_before, purge_cutoff, purge_landed_batches
from vigie.transform import run_transform

MAIL = {"id": "mail", "type": "maildir", "path": "x/maildir",
        "mailboxes": [{"name": "ec", "path": "ec", "service": "ETAT_CIVIL"}]}


def _cfg(tmp: Path, landed_days: int | None = 90) -> VigieConfig:
    cfg = make_config(tmp, sources=[MAIL])
    return cfg.model_copy(update={"retention": Retention(landed_days=landed_days)})


def _landing(cfg: VigieConfig) -> Path:
    return cfg.path(cfg.outputs.landing)


def _layout(cfg: VigieConfig) -> None:
    root = _landing(cfg)
    for rel in ("mail/day=2026-08-10", "mail/day=2026-08-11", "mail/day=2026-08-12", "mail/day=2026-11-10",
                "pbx/day=2026-08-01", "_empty/day=1900-01-01", "mail/.day=2026-11-11.tmp-ab12"):
        (root / rel).mkdir(parents=True)
        (root / rel / "email_messages.parquet").write_bytes(b"x")
    (root / "mail" / "_imap_state.json").write_text("{}")
    (root / "pbx" / "_state.json").write_text("{}")
    (root / "mail" / ".purge-day=2026-05-01-0000").mkdir()  # left by an interrupted purge


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.glob("*/*"))


def test_retention_is_optional_and_at_least_90_days(tmp_path: Path) -> None:
    assert make_config(tmp_path).retention.landed_days is None  # default: keep everything
    base = make_config(tmp_path).model_dump(mode="json", exclude={"base_dir"})
    assert parse_config(base | {"retention": {"landed_days": 400}}).retention.landed_days == 400
    assert parse_config(base | {"retention": {"landed_days": 90}}).retention.landed_days == 90
    with pytest.raises(ConfigError, match="retention.landed_days"):
        parse_config(base | {"retention": {"landed_days": 89}})


def test_purge_removes_exactly_the_old_batches(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    _layout(cfg)
    root = _landing(cfg)
    night = dt.date(2026, 11, 10)  # cutoff 2026-11-10 - 90 days = 2026-08-12 (kept)
    assert purge_cutoff(cfg, night) == dt.date(2026, 8, 12)
    removed = purge_landed_batches(cfg, night)
    assert sorted(str(p.relative_to(root)) for p in removed) == [
        "mail/day=2026-08-10", "mail/day=2026-08-11", "pbx/day=2026-08-01",
    ]
    assert _tree(root) == [
        "_empty/day=1900-01-01", "mail/.day=2026-11-11.tmp-ab12", "mail/_imap_state.json",
        "mail/day=2026-08-12", "mail/day=2026-11-10", "pbx/_state.json",
    ]
    assert purge_landed_batches(cfg, night) == []  # nothing left to purge


def test_backfill_of_an_older_night_purges_nothing(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    _layout(cfg)
    root = _landing(cfg)
    before = _tree(root)
    # 2026-11-09 is older than the newest landed night (2026-11-10): a backfill
    assert purge_cutoff(cfg, dt.date(2026, 11, 9)) is None
    assert purge_landed_batches(cfg, dt.date(2026, 11, 9)) == []
    assert _tree(root) == [p for p in before if ".purge-" not in p]  # only the crash leftover went
    # the next night (after the newest) purges relative to itself: cutoff 2026-08-13
    removed = purge_landed_batches(cfg, dt.date(2026, 11, 11))
    assert sorted(p.name for p in removed) == ["day=2026-08-01", "day=2026-08-10", "day=2026-08-11",
                                               "day=2026-08-12"]
    # a backfill night freezes history relative to the newest landed night, not to itself
    assert history_frozen_before(cfg, dt.date(2026, 10, 1)) == dt.date(2026, 9, 12)  # 11-10 - 90 + 31
    # without a retention nothing is ever purged
    cfg_keep = _cfg(tmp_path, landed_days=None)
    assert purge_landed_batches(cfg_keep, dt.date(2030, 1, 1)) == []
    assert (root / "mail" / "day=2026-11-10").is_dir()


def test_a_failed_build_purges_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vigie.transform as transform

    cfg = _cfg(tmp_path)
    _land_day(cfg, dt.date(2026, 8, 3))
    _land_day(cfg, dt.date(2026, 11, 10))

    def failing_build(*_: object) -> None:
        raise transform.TransformFailed(dt.date(2026, 11, 10), ["model.vigie.requests: error boom"])

    monkeypatch.setattr(transform, "run_dbt", failing_build)
    with pytest.raises(transform.TransformFailed):
        run_transform(cfg, dt.date(2026, 11, 10))
    assert (_landing(cfg) / "mail" / "day=2026-08-03").is_dir()


def _message(at: dt.datetime, key: str) -> dict:
    return {"mailbox": "ec", "service_code": "ETAT_CIVIL", "folder_role": "inbox",
            "source_position": f"ec/cur/{key}", "message_key": key, "in_reply_to_key": None,
            "references_keys": [], "from_key": f"f{key}", "to_keys": ["t1"], "from_is_internal": False,
            "received_at": at, "date_header_at": at, "subject_key": f"s{key}",
            "is_auto_submitted": False, "auto_reason": None}


AUGUST = [dt.date(2026, 8, d) for d in (3, 4, 10, 11)]  # Mondays and Tuesdays (open days)


def _land_day(cfg: VigieConfig, day: dt.date) -> None:
    at = dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC)  # 10:00 in Paris
    land(cfg, "mail", day, {"email_messages": [_message(at, f"m{day:%m%d}")]})


def _read(cfg: VigieConfig, sql: str) -> list[tuple]:
    con = duckdb.connect(str(cfg.path(cfg.outputs.warehouse)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


HISTORY = "select * exclude (is_recovery, recorded_on) from history.service_indicators"
FINAL_MARTS = "select * from marts.service_indicators where is_final"
AUGUST_ROWS = "where period_start < date '2026-09-01' and period_end <= date '2026-09-01'"


def test_history_keeps_final_indicators_after_their_batches_are_purged(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    for day in AUGUST:
        _land_day(cfg, day)

    run_transform(cfg, dt.date(2026, 9, 1))
    assert _read(cfg, "select recorded_on, count(*) from history.service_indicators group by all") == [
        (dt.date(2026, 9, 1), N_AUGUST_FINAL)
    ]
    cols = [r[0] for r in _read(cfg, "describe history.service_indicators")]
    assert cols == [r[0] for r in _read(cfg, "describe marts.service_indicators")] + ["is_recovery", "recorded_on"]

    run_transform(cfg, dt.date(2026, 9, 2))
    history_2 = _read(cfg, "select * from history.service_indicators order by all")
    assert _read(cfg, f"{HISTORY} order by all") == _read(cfg, f"{FINAL_MARTS} order by all")
    assert {r[-1] for r in history_2} == {dt.date(2026, 9, 2)}  # every final row rewritten
    run_transform(cfg, dt.date(2026, 9, 2))  # rerun: same table
    assert _read(cfg, "select * from history.service_indicators order by all") == history_2

    august = _read(cfg, f"{HISTORY} {AUGUST_ROWS} order by all")
    assert len(august) == N_AUGUST_FINAL

    # 2026-11-10 lands; its night purges the August batches (cutoff 2026-08-12) after the build
    _land_day(cfg, dt.date(2026, 11, 10))
    run_transform(cfg, dt.date(2026, 11, 10))
    assert sorted(p.name for p in (_landing(cfg) / "mail").iterdir()) == ["day=2026-11-10"]
    # frozen before 2026-11-10 - 90 + 31 = 2026-09-12: August was not rewritten from that night
    assert history_frozen_before(cfg, dt.date(2026, 11, 10)) == dt.date(2026, 9, 12)
    assert _read(cfg, f"select distinct recorded_on from history.service_indicators {AUGUST_ROWS}") == [
        (dt.date(2026, 9, 2),)
    ]

    _land_day(cfg, dt.date(2026, 11, 11))
    run_transform(cfg, dt.date(2026, 11, 11))
    assert _read(cfg, f"select count(*) from marts.service_indicators {AUGUST_ROWS}") == [(0,)]
    assert _read(cfg, f"{HISTORY} {AUGUST_ROWS} order by all") == august
    # the audit row: August's email compliance (4 requests, none answered: 0/4, breached)
    assert _read(cfg, "select period_start, numerator, denominator, value, is_breached, recorded_on "
                      "from history.service_indicators where period_grain = 'month' "
                      "and commitment_id = 'email_response_5bd'") == [
        (dt.date(2026, 8, 1), 0, 4, 0.0, True, dt.date(2026, 9, 2))
    ]
    # + the final days 10 and 11 November (requests_received, requests_excluded), written by 11-11
    assert _read(cfg, "select recorded_on, count(*) from history.service_indicators group by all order by 1") == [
        (dt.date(2026, 9, 2), 21), (dt.date(2026, 11, 11), 4)
    ]

    # the BI snapshot publishes the history beside the marts
    from vigie.publish import parquet_dir, publish_snapshot

    snapshot = publish_snapshot(cfg, dt.date(2026, 11, 11))
    snap = duckdb.connect(str(snapshot), read_only=True)
    try:
        assert snap.execute("select count(*) from history.service_indicators").fetchone()[0] == 25
        assert snap.execute("select tables[-1] from main.snapshot_info").fetchone()[0] == "history.service_indicators"
    finally:
        snap.close()
    assert (parquet_dir(snapshot) / "history_service_indicators.parquet").is_file()


# Final rows of August (ETAT_CIVIL, email): requests_received and requests_excluded for 4 days,
# 2 weeks and the month (14); compliance_rate for the 4 deadline days (10, 11, 17, 18 August),
# 2 weeks and the month (7).
N_AUGUST_FINAL = 21
