{#- Requests excluded from the commitments, per period (day, ISO week, month), service, channel
    and reason (issue 15: the year's record shows exclusions and their reasons). Periods by
    local date of receipt, as the requests_excluded rows of service_indicators: the counts of a
    cell's reasons add up to that row's numerator. Kept night after night in
    history.exclusion_reasons (vigie/history.py), so the record survives the retention purge.
    Only periods starting on or before the night's day; is_final once the period ended. -#}
with request_periods as (
    {{ request_receipt_periods() }}
),

counts as (
    select
        period_grain,
        period_start,
        service_code,
        channel,
        exclusion_reason,
        count(*) as requests
    from request_periods
    where is_excluded
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
