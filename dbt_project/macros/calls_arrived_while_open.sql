{#-
    The one definition of "a call arrived while its service was open" (domain.md §5 Phone,
    DECISIONLOG.md Part 3 §3 and §3b), shared by both call models (queue_log and CDR-only).

    Judged once, at the call's first arrival, whatever happens next: the arrival instant lies in
    one of the service's opening intervals of int_service_opening_intervals (the calendar: per
    local date, wall-clock bounds converted with the zone so DST days are right; holidays not
    worked and closures have no interval). Intervals are [start, end): an arrival exactly at
    closing time is outside.

    calls_arrived_while_open(calls, keys, arrived_at, service_code) -> a select of the distinct
    `keys` of the rows of `calls` (a CTE name) that arrived while open; a call missing from it
    is out of hours.
-#}
{% macro calls_arrived_while_open(calls, keys, arrived_at='received_at', service_code='service_code') -%}
    select distinct
        {%- for key in keys %}
        {{ calls }}.{{ key }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ calls }}
    inner join {{ ref('int_service_opening_intervals') }} as opening_intervals
        on {{ calls }}.{{ service_code }} = opening_intervals.service_code
        and {{ calls }}.{{ arrived_at }} >= opening_intervals.interval_start_at
        and {{ calls }}.{{ arrived_at }} < opening_intervals.interval_end_at
{%- endmacro %}
