"""run_landing_checks (the backfill's older nights): each source and table validated once over
the nights, and every failure still attributed to its own night, as night by night."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from h5_builders import land, make_config

from expectations.run import _check_landing, _Validation, run_landing_checks

NIGHTS = [dt.date(2026, 11, 13) + dt.timedelta(days=i) for i in range(4)]  # Fri 13 .. Mon 16 Nov
BROKEN, LATE = NIGHTS[1], NIGHTS[2]


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def _land_night(cfg, day: dt.date) -> None:
    """Clean batches of ``day``, except: BROKEN's mail has a folder role the models do not know
    (blocking); LATE's queue_log has an event of the next night (a warning, but within the
    range's nights: only a per-night window sees it). GLPI lands ticket 12 every night (its
    overlap): unique within each batch, not over the range."""
    event_at = _at(day + dt.timedelta(days=1), 8) if day == LATE else _at(day, 8)
    land(cfg, "pbx", day, {"queue_log_events": [
        {"source_file": "queue_log", "source_line": 1, "event_at": event_at, "callid": f"{day}.1",
         "queue_name": "etat-civil", "event": "ENTERQUEUE"},
    ]})
    land(cfg, "mail", day, {"email_messages": [
        {"mailbox": "ec", "service_code": "ETAT_CIVIL", "folder_role": "drafts" if day == BROKEN else "inbox",
         "source_position": f"ec/cur/{day}", "message_key": f"m-{day}", "received_at": _at(day, 9),
         "from_is_internal": False, "is_auto_submitted": False},
    ]})
    land(cfg, "glpi", day, {"glpi_tickets": [
        {"id": 12, "entities_id": 0, "date": _at(NIGHTS[0], 7), "date_creation": _at(NIGHTS[0], 7),
         "date_mod": _at(day, 10), "status": 2, "type": 2, "is_deleted": 0},
    ]})


def _suites(summary: dict) -> list[dict]:
    return [{k: v for k, v in s.items() if k != "validated_with"} for s in summary["suites"]]


@pytest.fixture
def cfg(tmp_path: Path):
    return make_config(tmp_path)


RANGE = "landing-2026-11-13..2026-11-16"


@pytest.mark.parametrize(("chunk_rows", "validations", "runs"), [
    # 13 landed tables a night (pbx 1, mail 1, glpi 8, rejects of each): 13 validations over
    # the 4 nights, then the batch a blocking failure named, alone (52 night by night).
    (500_000, 14, {RANGE}),
    # Frames of at most 2 rows: the three tables with a row a night take two validations each.
    (2, 17, {RANGE, "landing-2026-11-13..2026-11-14", "landing-2026-11-15..2026-11-16"}),
])
def test_a_failure_is_attributed_to_its_night_only(cfg, monkeypatch, chunk_rows: int, validations: int,
                                                   runs: set[str]) -> None:
    monkeypatch.setattr("expectations.run.RANGE_CHUNK_ROWS", chunk_rows)
    for day in NIGHTS:
        _land_night(cfg, day)

    failed = run_landing_checks(cfg, NIGHTS)

    assert list(failed) == [BROKEN]
    assert ("landing.email_messages [mail.email_messages] expect_column_values_to_be_in_set"
            " column folder_role: observed 1 unexpected, e.g. ['drafts']") in failed[BROKEN]
    stored = list((cfg.path("var/gx") / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert len(stored) == validations
    summaries = {d: json.loads((cfg.path("var/gx") / "summaries" / f"{d}.json").read_text()) for d in NIGHTS}
    assert [(d, s["success"], s["blocking_failures"], s["warnings"]) for d, s in summaries.items()] == [
        (NIGHTS[0], True, 0, 0), (BROKEN, False, 1, 0), (LATE, True, 0, 1), (NIGHTS[3], True, 0, 0)]
    alone = {(d, s["batch"]) for d, summary in summaries.items() for s in summary["suites"]
             if "validated_with" not in s}
    assert alone == {(BROKEN, "mail.email_messages")}
    together = {s["validated_with"] for summary in summaries.values() for s in summary["suites"]
                if "validated_with" in s}
    assert together == runs
    late = next(s for s in summaries[LATE]["suites"] if s["batch"] == "pbx.queue_log_events")
    assert [(f["expectation"], f["column"], f["severity"], f["observed"]) for f in late["failed"]] == [
        ("expect_column_pair_values_a_to_be_greater_than_b", "event_at", "warning",
         f"1 unexpected in this night's batch (validated in {late['validated_with']}:"
         " values on its Data Docs page)")]
    # The data team is told of the broken night only.
    assert sorted(p.parent.name for p in cfg.path("var/outbox").rglob("*.eml")) == [BROKEN.isoformat()]

    # Each night's outcomes are those of its own landing check, night by night (observed
    # values apart for a warning found in the range's validation, checked above).
    for day in NIGHTS:
        night = _Validation(cfg).night(day)
        _check_landing(cfg, night)
        own = [{**dataclasses.asdict(o), "failed": [
            {k: v for k, v in dataclasses.asdict(f).items() if k not in ("suite", "batch")} for f in o.failures]}
            for o in night.outcomes]
        expected = [{k: o[k] for k in ("suite", "batch", "success", "evaluated", "failed")} for o in own]
        if day == LATE:
            own_late = next(o for o in expected if o["batch"] == "pbx.queue_log_events")["failed"][0]
            assert own_late["observed"].startswith("1 unexpected, e.g. ")
            own_late["observed"] = late["failed"][0]["observed"]
        assert _suites(summaries[day]) == expected, day
