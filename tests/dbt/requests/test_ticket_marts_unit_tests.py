"""The dbt unit tests of the ticket, letter and satisfaction models pass (exact values).

Covers int_satisfaction_surveys, satisfaction_indicators, ticket_indicators and
ticket_delay_reconciliation (rules: DECISIONLOG.md §5, "Satisfaction",
"Ticket indicators").
"""

from __future__ import annotations

import datetime as dt

EXPECTED = {
    "satisfaction_surveys_glpi_and_export",
    "satisfaction_indicators_rates_means_scales",
}


def test_ticket_and_satisfaction_unit_tests_pass(dbt_sandbox, night_vars_for, statuses_of) -> None:
    day = dt.date(2026, 11, 16)
    box = dbt_sandbox
    box.prepare(day)
    built = box.dbt(
        ["run", "--select", "+int_satisfaction_surveys +satisfaction_indicators"], night_vars_for(day)
    )
    assert built.success, statuses_of(built)
    tested = box.dbt(
        ["test", "--select", "test_type:unit,int_satisfaction_surveys test_type:unit,satisfaction_indicators"],
        night_vars_for(day),
    )
    ran = {uid.rsplit(".", 1)[-1]: status for uid, status in statuses_of(tested).items()}
    assert ran == {name: "pass" for name in EXPECTED}
    assert tested.success
