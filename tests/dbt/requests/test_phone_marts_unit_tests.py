"""The dbt unit tests of the phone detail marts and the queue-visit model pass: Vigie's own
indicators (phone_indicators, phone_commitment_indicators) and the replays of wazo-call-logd's
integration tests (phone_queue_statistics, phone_queue_qos_bands) with Wazo's own expected
figures (issue 13, item 2)."""

from __future__ import annotations

import datetime as dt

EXPECTED_UNIT_TESTS = {
    "phone_indicators_outcomes_rates_bands",
    "phone_indicators_cdr_only_service_beside_queue_log",
    "phone_commitment_indicators_from_the_engine",
    "phone_queue_statistics_replays_wazo_interval_by_hour",
    "phone_queue_statistics_replays_wazo_specific_queue_qos",
    "phone_queue_qos_bands_replay_wazo_thresholds_by_hour",
    "phone_queue_visits_wazo_statuses",
}


def test_phone_marts_unit_tests_pass(dbt_sandbox, night_vars_for, statuses_of) -> None:
    day = dt.date(2026, 11, 23)
    box = dbt_sandbox
    box.prepare(day)
    selected = "+phone_indicators +phone_commitment_indicators +phone_queue_statistics +phone_queue_qos_bands"
    built = box.dbt(["run", "--empty", "--select", *selected.split()], night_vars_for(day))
    assert built.success, statuses_of(built)
    tested = box.dbt(
        ["test", "--select", *[f"test_type:unit,{m}" for m in (
            "phone_indicators", "phone_commitment_indicators", "phone_queue_statistics",
            "phone_queue_qos_bands", "int_phone_queue_visits",
        )]],  # fmt: skip
        night_vars_for(day),
    )
    ran = {uid.rsplit(".", 1)[-1]: status for uid, status in statuses_of(tested).items()}
    assert ran == {name: "pass" for name in EXPECTED_UNIT_TESTS}
    assert tested.success
