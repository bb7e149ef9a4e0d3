"""The request models recount what the demo generator says it wrote (vigie/demo).

The generator knows the truth of every call and email thread it writes (its summary): the real
connectors land them, the request models rebuild them, and the counts must agree exactly.
Slow (generation, 5 nights of extraction, one dbt run): about 25 s.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from connectors.extract import extract_source
from vigie.config import load_config
from vigie.demo import generate_demo_sources

START, END = dt.date(2026, 11, 2), dt.date(2026, 11, 6)
REPO_CONFIG = Path(__file__).resolve().parents[3] / "config" / "vigie.yml"


@pytest.mark.slow
def test_request_models_match_the_demo_truth(dbt_sandbox, night_vars_for, statuses_of, monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_PSEUDONYMISATION_KEY", "h4b-demo-test-key-0123456789abcdef")
    (tmp_path / "config").mkdir()
    shutil.copy(REPO_CONFIG, tmp_path / "config" / "vigie.yml")  # outputs resolve under tmp_path/var
    cfg = load_config(tmp_path / "config" / "vigie.yml")
    truth = generate_demo_sources(cfg, START, END)
    day = START
    while day <= END:
        for source in cfg.sources:
            extract_source(cfg, source.id, day)
        day += dt.timedelta(days=1)

    box = dbt_sandbox
    box.root = tmp_path / "dbt"
    box.root.mkdir()
    shutil.copytree(cfg.path(cfg.outputs.landing), box.landing)
    box.prepare(END, cfg)
    result = box.dbt(["run", "--select", "+int_requests_unioned"], night_vars_for(END))
    assert result.success, statuses_of(result)

    # Phone: every call once, in the service of its first queue, with the generator's outcome.
    calls = truth["pbx_queue_log"]
    outcomes = Counter(dict(box.query(
        "select call_outcome, count(*) from intermediate.int_phone_calls_assembled group by 1"
    )))
    by_service = dict(box.query(
        "select service_code, count(*) from intermediate.int_phone_calls_assembled group by 1"
    ))
    assert sum(outcomes.values()) == calls["calls"]
    assert by_service == calls["by_service"]
    expected = calls["outcomes"]
    assert outcomes["out_of_hours"] == expected.get("out_of_hours", 0)
    assert outcomes["short_abandon"] == expected.get("short", 0)
    assert outcomes["timeout"] == expected.get("timeout", 0)
    assert outcomes["exit_key"] == expected.get("key", 0)
    assert outcomes["orphan"] == expected.get("orphan", 0)
    # an overflow ends answered or abandoned; blind transfers are answered calls
    assert outcomes["answered"] + outcomes["abandoned"] == (
        expected.get("answered", 0) + expected.get("abandon", 0) + expected.get("overflow", 0)
    )

    # Email: requests, reminders, exclusions and answered threads per mailbox.
    rows = box.query("""
        select mailbox,
               count(*) filter (where not is_excluded),
               sum(reminder_count),
               count(*) filter (where exclusion_reason = 'internal_sender'),
               count(*) filter (where exclusion_reason in ('auto_reply', 'mailing_list')),
               count(*) filter (where exclusion_reason = 'bounce'),
               count(first_response_at) filter (where not is_excluded and message_key = thread_key)
        from intermediate.int_email_requests_identified group by mailbox
    """)
    got = {r[0]: tuple(int(v) for v in r[1:]) for r in rows}
    want = {
        name: (
            m.get("inbox:request", 0) + m.get("inbox:follow_up", 0),
            m.get("inbox:reminder", 0),
            m.get("inbox:internal", 0),
            m.get("inbox:auto_reply", 0) + m.get("inbox:newsletter", 0),
            m.get("inbox:bounce", 0),
            m.get("answered", 0),
        )
        for name, m in truth["mairie_mail"]["mailboxes"].items()
    }
    assert got == want

    # GLPI: every ticket that is not in the trash, once.
    glpi = sqlite3.connect(truth["glpi"]["path"])
    try:
        live = {r[0] for r in glpi.execute("select id from glpi_tickets where is_deleted = 0")}
    finally:
        glpi.close()
    assert {r[0] for r in box.query("select ticket_id from intermediate.int_tickets_responded")} == live
