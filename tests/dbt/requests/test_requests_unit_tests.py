"""The dbt unit tests of the request models (models/intermediate/requests/*.yml) pass.

They hold the exact expected values for overflow, transfer, abandons, orphan and out-of-hours
calls, email threading, reminders and acknowledgements, and GLPI first responses; this test runs
them in-process so that `pytest` alone guards them.
"""

from __future__ import annotations

import datetime as dt

EXPECTED_UNIT_TESTS = {
    "phone_calls_outcomes_overflow_transfer_abandons_orphan_out_of_hours",
    "phone_call_exit_waits_across_queues",
    "phone_call_orphans_closed_by_rule",
    "phone_call_out_of_hours_judged_at_first_arrival",
    "phone_cdr_calls_ring_legs_ivr_out_of_hours_transfer",
    "phone_cdr_caller_leg_never_local_then_sequence",
    "phone_calls_unioned_stacks_queue_log_and_cdr_calls",
    "email_threading_in_reply_to_references_subject_window",
    "email_threading_window_is_configuration",
    "email_requests_reminders_acknowledgement_replies_exclusions",
    "email_requests_glpi_notification_replies_continue_their_ticket",
    "tickets_first_response_group_and_category",
    "tickets_resolution_without_pending_time",
    "requests_unioned_keeps_every_channel_and_exclusion",
    "phone_queue_visits_wazo_statuses",
}


def test_request_models_unit_tests_pass(dbt_sandbox, night_vars_for, statuses_of) -> None:
    day = dt.date(2026, 11, 23)
    box = dbt_sandbox
    box.prepare(day)
    # Unit tests read the column types of their inputs from the warehouse: build the
    # upstream models (on the empty landing) first.
    built = box.dbt(["run", "--select", "+int_requests_unioned", "+int_phone_calls_unioned"], night_vars_for(day))
    assert built.success, statuses_of(built)

    tested = box.dbt(
        ["test", "--select", "test_type:unit,path:models/intermediate/requests"], night_vars_for(day)
    )
    statuses = statuses_of(tested)
    ran = {uid.rsplit(".", 1)[-1]: status for uid, status in statuses.items()}
    assert ran == {name: "pass" for name in EXPECTED_UNIT_TESTS}
    assert tested.success
