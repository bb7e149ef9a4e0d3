{#-
    The one definition of a compliance rate's denominator (domain.md §5, DECISIONLOG Part 2
    "Rate, breach, finality"): an evaluation is decided when it is met, missed or overdue;
    pending rows wait, excluded rows are out of scope. Used by every mart that reports
    "within commitment" (service, phone, email, ticket indicators).
-#}
{% macro is_decided(status) -%}
    {{ status }} in ('met', 'missed', 'overdue')
{%- endmacro %}

{#-
    The one definition of the commitment version that gives a period its target, threshold and
    min_volume: the latest version of the commitment (for the row's service) in force on the
    period's last day, or on the night's day when the period has not ended. Each evaluation was
    already judged by the version in force at its receipt; this only picks the figures a period
    is compared with (DECISIONLOG Part 2, "Which version judges a breach").
    Emits a left join and a qualify: use it right after `from <periods> as <period>`.
-#}
{% macro join_version_in_force(period, versions, period_last_day) -%}
    left join {{ versions }} as v
        on v.commitment_id = {{ period }}.commitment_id
        and v.service_code = {{ period }}.service_code
        and v.valid_from <= least({{ period_last_day }}, {{ run_day() }})
    qualify row_number() over (
        partition by {{ period }}.period_grain, {{ period }}.period_start, {{ period }}.service_code,
            {{ period }}.commitment_id
        order by v.valid_from desc
    ) = 1
{%- endmacro %}
