{#- Requests excluded from the commitments, per period (day, ISO week, month), service, channel
    and reason (issue 15: the year's record shows exclusions and their reasons). Periods by
    local date of receipt, as the requests_excluded rows of service_indicators: the counts of a
    cell's reasons add up to that row's numerator. Kept night after night in
    history.exclusion_reasons (vigie/history.py), so the record survives the retention purge.
    Only periods starting on or before the night's day; is_final once the period ended. -#}
with excluded as (
    select
        service_code,
        channel,
        exclusion_reason,
        {{ local_date('received_at') }} as received_on
    from {{ ref('int_requests_unioned') }}
    where received_at < {{ as_of() }} and is_excluded
),

counts as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'e.received_on') }} as period_start,
        e.service_code,
        e.channel,
        e.exclusion_reason,
        count(*) as requests
    from excluded as e
    cross join ({{ period_grains() }}) as g
    group by all
)

select
    period_grain,
    period_start,
    cast({{ period_end('period_grain', 'period_start') }} as date) as period_end,
    service_code,
    channel,
    exclusion_reason,
    cast(requests as bigint) as requests,
    {{ is_period_final(period_end('period_grain', 'period_start')) }} as is_final,
    {{ as_of() }} as evaluated_as_of
from counts
