"""Issue 7 through the real chain: landed batches -> dbt (quality models, service_indicators)
-> alerts. The mail source lands one inbound message per business day from Mon 2 Nov to
Mon 16 Nov 2026, except Thu 12 Nov (no batch): night 16 Nov.
"""

from __future__ import annotations

import datetime as dt
import email
import sys
from email import policy
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from h5_builders import land, make_config  # noqa: E402

from vigie.alerts import run_alerts  # noqa: E402
from vigie.transform import run_transform  # noqa: E402

DAY = dt.date(2026, 11, 16)
BUSINESS = [dt.date(2026, 11, d) for d in (2, 3, 4, 5, 6, 9, 10, 13, 16)]  # 11 Nov holiday, 12 Nov gap


def _message(day: dt.date) -> dict:
    at = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    return {"mailbox": "ec", "service_code": "ETAT_CIVIL", "folder_role": "inbox",
            "source_position": f"ec/cur/{day:%d}", "message_key": f"m{day:%d}", "in_reply_to_key": None,
            "references_keys": [], "from_key": f"f{day:%d}", "to_keys": ["t1"], "from_is_internal": False,
            "received_at": at, "date_header_at": at, "subject_key": f"s{day:%d}",
            "is_auto_submitted": False, "auto_reason": None}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("completeness")
    cfg = make_config(tmp, sources=[
        {"id": "mail", "type": "maildir", "path": "x/maildir",
         "mailboxes": [{"name": "ec", "path": "ec", "service": "ETAT_CIVIL"}]},
    ])
    for day in BUSINESS:
        land(cfg, "mail", day, {"email_messages": [_message(day)]})
    run_transform(cfg, DAY)
    return cfg


def test_gap_day_marks_its_periods_incomplete(night) -> None:
    con = duckdb.connect(str(night.path("var/warehouse/vigie.duckdb")), read_only=True)
    try:
        gaps = con.execute(
            "select source_id, local_date, row_count, is_missing from intermediate.int_source_day_completeness "
            "where not is_complete").fetchall()
        rows = con.execute(
            """
            select period_grain, period_start, indicator, is_complete, completeness_note
            from marts.service_indicators
            where service_code = 'ETAT_CIVIL' and channel = 'email' and indicator = 'requests_received'
            order by period_grain, period_start
            """).fetchall()
    finally:
        con.close()
    assert gaps == [("mail", dt.date(2026, 11, 12), 0, True)]
    note = "mail 2026-11-12: no data"
    assert rows == [
        *[("day", d, "requests_received", True, None) for d in BUSINESS],
        ("month", dt.date(2026, 11, 1), "requests_received", False, note),
        ("week", dt.date(2026, 11, 2), "requests_received", True, None),
        ("week", dt.date(2026, 11, 9), "requests_received", False, note),
        ("week", dt.date(2026, 11, 16), "requests_received", True, None),
    ]


def test_alerts_tell_the_data_team_not_the_head(night) -> None:
    result = run_alerts(night, DAY)
    assert (result.digests, result.incomplete, result.breaches) == (1, 1, 0)
    # withheld: the 5 overdue requests (received 2-6 Nov, due 9, 10, 12, 13, 16 Nov: the gap
    # of 12 Nov lies between receipt and the night) and the week 9-15 Nov breach (0/4)
    assert result.withheld == 6
    msg = email.message_from_bytes(Path(result.outbox_files[0]).read_bytes(), policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == "donnees@test.fr"
    assert "mail — journée du 12/11/2026 : aucune donnée pour un jour ouvré." in msg.get_body(("plain",)).get_content()
    assert run_alerts(night, DAY).digests == 0
