"""Completeness through the real chain (landed batches and marker files -> dbt quality and alert
rules -> alerts), issue 11 items 1-3 and 8.

The mail source of ETAT_CIVIL lands one inbound message per business day from Mon 2 Nov to
Mon 16 Nov 2026 (11 Nov is a holiday), none on Thu 12 Nov, and its extract of Fri 13 Nov failed
(a real `_FAILED.json` in the landing, as the extract task writes it). Night: Mon 16 Nov.
- Thu 12: 0 where Thursdays average 1: P(X = 0) = e^-1 = 0.37, ordinary chance -> complete.
- Fri 13: failed extract -> incomplete without statistics.
"""

from __future__ import annotations

import datetime as dt
import email
import json
import sys
from email import policy
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from h5_builders import land, make_config

from vigie.alerts import run_alerts
from vigie.alerts.data_team import confirm_day
from vigie.transform import run_transform

DAY = dt.date(2026, 11, 16)
BUSINESS = [dt.date(2026, 11, d) for d in (2, 3, 4, 5, 6, 9, 10, 16)]  # 12 Nov quiet, 13 Nov failed
FAILED = dt.date(2026, 11, 13)
NOTE = "Messagerie de l'état civil : extraction du 13/11/2026 en échec (IMAP timeout after 60 s)"


def _message(day: dt.date) -> dict:
    at = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    return {"mailbox": "ec", "service_code": "ETAT_CIVIL", "folder_role": "inbox",
            "source_position": f"ec/cur/{day:%d}", "message_key": f"m{day:%d}", "in_reply_to_key": None,
            "references_keys": [], "from_key": f"f{day:%d}", "to_keys": ["t1"], "from_is_internal": False,
            "received_at": at, "date_header_at": at, "subject_key": f"s{day:%d}",
            "is_auto_submitted": False, "auto_reason": None}


def _fail(cfg, source_id: str, day: dt.date, error: str) -> Path:
    """The marker the extract task leaves for a failed night (DECISIONLOG Part 1)."""
    target = cfg.path(cfg.outputs.landing) / source_id / f"day={day.isoformat()}"
    target.mkdir(parents=True, exist_ok=True)
    marker = target / "_FAILED.json"
    marker.write_text(json.dumps({"source_id": source_id, "day": day.isoformat(), "error": error,
                                  "failed_at": "2026-11-14T03:05:00+00:00"}))
    return marker


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("completeness")
    cfg = make_config(tmp, sources=[
        {"id": "mail", "type": "maildir", "path": "x/maildir", "name": "Messagerie de l'état civil",
         "mailboxes": [{"name": "ec", "path": "ec", "service": "ETAT_CIVIL"}]},
    ])
    for day in BUSINESS:
        land(cfg, "mail", day, {"email_messages": [_message(day)]})
    _fail(cfg, "mail", FAILED, "IMAP timeout after 60 s")
    run_transform(cfg, DAY)
    return cfg


def _query(cfg, sql: str) -> list[tuple]:
    con = duckdb.connect(str(cfg.path("var/warehouse/vigie.duckdb")), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _texts(result) -> dict[str, str]:
    out = {}
    for p in result.outbox_files:
        msg = email.message_from_bytes(Path(p).read_bytes(), policy=policy.default)
        out[msg["To"].addresses[0].addr_spec] = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    return out


def test_a_quiet_day_is_chance_a_failed_extract_is_incomplete(night) -> None:
    rows = _query(night, """
        select local_date, row_count, is_failed, is_complete, completeness_note
        from intermediate.int_source_day_completeness where local_date >= '2026-11-12' order by local_date""")
    assert rows == [
        (dt.date(2026, 11, 12), 0, False, True, None),
        (FAILED, 0, True, False, NOTE),
        (DAY, 1, False, True, None),
    ]
    periods = _query(night, """
        select period_grain, period_start, is_complete, completeness_note from marts.service_indicators
        where service_code = 'ETAT_CIVIL' and channel = 'email' and indicator = 'requests_received'
          and period_grain <> 'day' order by period_grain, period_start""")
    assert periods == [
        ("month", dt.date(2026, 11, 1), False, NOTE),
        ("week", dt.date(2026, 11, 2), True, None),
        ("week", dt.date(2026, 11, 9), False, NOTE),
        ("week", DAY, True, None),
    ]


def test_items_reach_the_head_the_rate_is_held_then_sent_once_when_confirmed(night, monkeypatch) -> None:
    monkeypatch.delenv("VIGIE_CONFIG", raising=False)
    first = run_alerts(night, DAY)
    # the 5 unanswered messages of 2-6 Nov (due 9, 10, 12, 13, 16 Nov) are facts: sent; the
    # week 9-15 Nov (0 of 4 decided, breached) holds the failed day: held back, told once
    assert (first.overdue, first.breaches, first.withheld, first.withheld_told, first.incomplete) == (5, 0, 1, 1, 1)
    texts = _texts(first)
    assert set(texts) == {"c.martin@test.fr", "donnees@test.fr"}
    assert texts["c.martin@test.fr"].count("MEL-m0") == 5 and "semaine du 09/11/2026" not in texts["c.martin@test.fr"]
    team = texts["donnees@test.fr"]
    assert "  - Messagerie de l'état civil — journée du 13/11/2026 : l'extraction a échoué (IMAP timeout after 60 s)." in team
    assert "  - Retenu pour Claire Martin (État civil) : Courriels : réponse sous 5 jours ouvrés — semaine du 09/11/2026 au 15/11/2026 : 0 % (0 sur 4)" in team
    assert f"vigie confirm-day --config {night.base_dir / 'vigie.yml'} --source mail --day 2026-11-13" in team
    assert "mail " not in team.replace("--source mail ", "")  # the source by its name, not its id
    again = run_alerts(night, DAY)
    assert (again.digests, again.withheld) == (0, 1)

    # the data team confirms the night (what landed is all there is) and reruns the night
    marker = confirm_day(night, "mail", FAILED, by="Équipe données", note="panne du serveur IMAP")
    assert marker.name == "_CONFIRMED.json"
    run_transform(night, DAY)
    assert _query(night, "select count(*) from intermediate.int_source_day_completeness where not is_complete") == [(0,)]
    late = run_alerts(night, DAY)
    assert (late.breaches, late.overdue, late.withheld, late.digests) == (1, 0, 0, 1)
    head = _texts(late)["c.martin@test.fr"]
    assert "semaine du 09/11/2026 au 15/11/2026 : 0 % (0 sur 4)" in head
    assert "4 autres demandes de cette période, signalées dans un message précédent." in head
    assert run_alerts(night, DAY).digests == 0  # once
