"""Wazo call-logd CDRs, end to end: connector -> landing -> int_phone_calls_from_cdr -> phone_indicators.

Why end to end: a Wazo CDR has no Asterisk dstchannel; the connector lands a synthetic, masked
``wazo/user/<extension>`` when the destination is a Wazo user (DECISIONLOG.md Part 3 §3b), and
only the whole chain shows that the CDR-only model's one rule (an answered leg whose dstchannel
matches ``agent_channel_pattern``) then counts a Wazo call answered by a user as answered, and
one answered by a voice menu as not. The CDRs come from the local HTTP stand-in of
tests/connectors/test_wazo_cdr.py (Wazo cannot run here).

The Wazo source's context mapping (``services_by_dcontext: {inbound: TECHNIQUE}``,
``agent_channel_pattern: ^wazo/user/`` in vigie.yml, which
tests/config/test_cdr_call_model_config.py turns into this row) is inserted into
``config.phone_cdr_contexts`` of the sandbox, whose configuration is the demo's.

Night Monday 2026-11-23 (Europe/Paris, UTC+1); TECHNIQUE (no queue_log queue in the demo
configuration) is open 08:00-12:00 and 13:00-16:30 local = 07:00-11:00Z and 12:00-15:30Z.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator

import duckdb
import pytest

from tests.connectors.test_wazo_cdr import _cdr, _extract, _Handler, _user, serve

DAY = dt.date(2026, 11, 23)

# w21: user 1001 answers after 18 s -> answered, wait 18. w22: user 1002 rings, nobody answers
# -> abandoned. w23: the voice menu answers (no user destination) -> abandoned, not answered.
# w24: 17:00 local, closed since 16:30 -> out_of_hours although user 1001 answered after 7 s.
CDRS = [
    _cdr(21, "2026-11-23T08:00:00+00:00", "2026-11-23T08:00:18+00:00", "2026-11-23T08:03:18+00:00", 180, True, **_user("1001", "1001")),
    _cdr(22, "2026-11-23T09:00:00+00:00", None, "2026-11-23T09:00:30+00:00", 0, False, **_user("1002", "1002")),
    _cdr(23, "2026-11-23T10:00:00+00:00", "2026-11-23T10:00:01+00:00", "2026-11-23T10:00:41+00:00", 40, True),
    _cdr(24, "2026-11-23T16:00:00+00:00", "2026-11-23T16:00:07+00:00", "2026-11-23T16:02:07+00:00", 120, True, **_user("1001", "1001")),
]  # fmt: skip


class _NightHandler(_Handler):
    requests_seen: list[dict[str, str]] = []
    cdrs = CDRS


@pytest.fixture
def call_logd_night() -> Iterator[int]:
    yield from serve(_NightHandler)


def test_a_wazo_call_answered_by_a_user_is_answered(
    call_logd_night, dbt_sandbox, night_vars_for, statuses_of, tmp_path, monkeypatch
) -> None:
    batch = _extract(tmp_path / "wazo", monkeypatch, call_logd_night, page_size=1000, day=DAY)
    assert batch.row_counts == {"cdr_legs": 4}

    box = dbt_sandbox
    shutil.copytree(batch.path, box.landing / "wazo" / f"day={DAY.isoformat()}")
    box.prepare(DAY)
    con = duckdb.connect(str(box.warehouse))
    try:
        con.execute(
            "insert into config.phone_cdr_contexts values ('wazo', 'inbound', 'TECHNIQUE', '^wazo/user/')"
        )
    finally:
        con.close()
    built = box.dbt(["run", "--select", "+phone_indicators"], night_vars_for(DAY))
    assert built.success, statuses_of(built)

    calls = box.query(
        "select request_id, call_outcome, wait_seconds, is_excluded "
        "from intermediate.int_phone_calls_from_cdr order by request_id"
    )
    assert calls == [
        ("tel:wazo:wazo-21", "answered", 18.0, False),
        ("tel:wazo:wazo-22", "abandoned", None, False),
        ("tel:wazo:wazo-23", "abandoned", None, False),
        ("tel:wazo:wazo-24", "out_of_hours", 7.0, True),
    ]
    assert box.query(
        "select call_source, count(*) from intermediate.int_phone_calls_unioned group by 1"
    ) == [("cdr", 4)]
    day_row = box.query(
        "select calls_received, calls_offered, calls_answered, pickup_rate, calls_abandoned, "
        "out_of_hours_calls, average_speed_of_answer_seconds, answered_wait_15_30 "
        "from marts.phone_indicators "
        "where period_grain = 'day' and period_start = date '2026-11-23' and service_code = 'TECHNIQUE'"
    )
    assert day_row == [(4, 3, 1, 1 / 3, 2, 1, 18.0, 1)]
    checked = box.dbt(
        ["test", "--select", "int_phone_calls_unioned,test_type:data"], night_vars_for(DAY)
    )
    assert checked.success and statuses_of(checked), statuses_of(checked)
