{#- Opening intervals per service and local date, as instants, with the business minutes
    accumulated before each one (per service, from the calendar start). Business minutes between
    two instants t0 <= t1 are then B(t1) - B(t0), where B(t) = cumulative minutes before the last
    interval starting at or before t, plus the part of that interval already elapsed (capped at
    its length): the engine reads it from the intervals of t's local date (local_date below).
    Wall-clock bounds are built per local date and converted with the zone, so an interval on
    the last Sunday of March or October has its true length. Holidays (not worked) and closures
    have no opening intervals. The version of the opening hours in force on the local date
    applies (valid_to exclusive). -#}
with days as (
    select service_code, local_date, isodow
    from {{ ref('int_service_days_classified') }}
    where not is_public_holiday and not is_closed
),

hours as (
    select service_code, valid_from, valid_to, isodow, range_start_minute, range_end_minute
    from {{ source('config', 'opening_hours') }}
),

intervals as (
    select
        d.service_code,
        d.local_date,
        h.range_start_minute,
        h.range_end_minute,
        {{ local_instant('d.local_date + h.range_start_minute * interval 1 minute') }} as interval_start_at,
        {{ local_instant('d.local_date + h.range_end_minute * interval 1 minute') }} as interval_end_at
    from days as d
    inner join hours as h
        on h.service_code = d.service_code
        and h.isodow = d.isodow
        and d.local_date >= h.valid_from
        and (h.valid_to is null or d.local_date < h.valid_to)
),

sized as (
    select
        *,
        cast(date_diff('second', interval_start_at, interval_end_at) / 60 as bigint) as open_minutes
    from intervals
)

select
    service_code,
    local_date,
    range_start_minute,
    range_end_minute,
    interval_start_at,
    interval_end_at,
    open_minutes,
    cast(coalesce(sum(open_minutes) over (
        partition by service_code order by interval_start_at
        rows between unbounded preceding and 1 preceding
    ), 0) as bigint) as cum_minutes_before
from sized
