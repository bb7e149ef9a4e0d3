"""The dbt unit test of the email_indicators mart passes (exact values; rules:
DECISIONLOG.md "Email indicators")."""

from __future__ import annotations

import datetime as dt


def test_email_indicators_unit_test_passes(dbt_sandbox, night_vars_for, statuses_of) -> None:
    day = dt.date(2026, 11, 16)
    box = dbt_sandbox
    box.prepare(day)
    built = box.dbt(["run", "--select", "+email_indicators"], night_vars_for(day))
    assert built.success, statuses_of(built)
    tested = box.dbt(
        ["test", "--select", "test_type:unit,email_indicators test_type:unit,stg_email__messages"],
        night_vars_for(day),
    )
    ran = {uid.rsplit(".", 1)[-1]: status for uid, status in statuses_of(tested).items()}
    assert ran == {"email_indicators_delays_commitments_backlog_skew": "pass"}
    assert tested.success
