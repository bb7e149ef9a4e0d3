{#- THE commitment engine: one row per (request, commitment that applies to it). Every rule of
    domain.md §5 that decides a number lives here and nowhere else: clock start, elapsed value per
    unit, deadline, status, and the local date that puts the row in a period (counted_on).

    Applies: same channel, request's service covered, version in force on the local receipt
    date, and the request of the version's kind when it has one (request_kind 'complaint':
    is_complaint requests only; null: every request). Phone commitments measured in seconds or without a target (pickup rate) judge calls
    only (call_outcome not null), not tickets whose request type is "phone".

    Elapsed value is measured at the response of the commitment's metric (first_response_at,
    acknowledged_at or resolved_at) or, without one, at as_of (00:00 local after the night's day).
    Statuses compare elapsed values with the target, never instants (domain.md §5). -#}
{#- DuckDB plans an ASOF join whose left side it estimates small (< asof_loop_join_threshold
    rows) as a nested loop + aggregate; the deadline's ASOF (on a computed business count) was
    estimated small and took 36 s of CPU on a million requests. The hook turns that shortcut off
    for this model only.
    DuckDB also estimates `applicable` at about 1 % of its rows, so its build_side_probe_side
    optimizer turned the business-time lookups around (hash table on the 500,000 wide request
    rows, probed by the 9,000 days); turned off while this model builds, every join builds on
    the side written on the right, the small calendar tables (DuckDB accepts that option only
    globally: the post-hook puts it back). Neither setting changes a result. -#}
{{ config(
    pre_hook=[
        "set session asof_loop_join_threshold = 0",
        "set global disabled_optimizers = 'build_side_probe_side'",
    ],
    post_hook=[
        "reset session asof_loop_join_threshold",
        "reset global disabled_optimizers",
    ]
) }}

with settings as (
    select {{ as_of() }} as as_of
),

requests as (
    select * from {{ ref('int_requests_unioned') }}
),

versions as (
    select
        *,
        case
            when target_unit in ('business_days', 'working_days', 'calendar_days', 'weeks') then 'days'
            when target_unit in ('business_minutes', 'business_hours') then 'business_time'
            when target_unit = 'seconds' then 'seconds'
        end as unit_family,
        -- targets in the unit actually counted: whole counting days, microseconds of opening
        cast(floor(target_value * case when target_unit = 'weeks' then 7 else 1 end) as integer) as target_days,
        cast(
            round(target_value * case when target_unit = 'business_hours' then 3600 else 60 end * 1000000)
            as bigint
        ) as target_us
    from {{ ref('int_commitment_versions') }}
),

days as (
    select service_code, local_date, is_business_day, is_working_day, business_day_index, working_day_index
    from {{ ref('int_service_days_classified') }}
),

intervals as (
    select
        service_code,
        local_date,
        interval_start_at,
        epoch_us(interval_start_at) as start_us,
        open_minutes * 60000000 as open_us,
        cum_minutes_before * 60000000 as cum_us_before
    from {{ ref('int_service_opening_intervals') }}
),

received as (
    select
        r.*,
        {{ local_date('r.received_at') }} as received_on,
        r.call_outcome is not null as is_call
    from requests as r
    cross join settings as st
    where r.received_at < st.as_of
),

applicable as (
    select
        r.request_id,
        r.request_ref,
        r.channel,
        r.service_code,
        r.received_at,
        r.received_on,
        r.is_call,
        r.is_excluded,
        r.exclusion_reason,
        r.wait_seconds,
        v.commitment_id,
        v.valid_from as version_valid_from,
        v.metric,
        v.target_value,
        v.target_unit,
        v.unit_family,
        v.target_days,
        v.target_us,
        -- responses at or after as_of were not known that night
        case
            when v.metric = 'first_response' and r.first_response_at < st.as_of then r.first_response_at
            when v.metric = 'acknowledgement' and r.acknowledged_at < st.as_of then r.acknowledged_at
            when v.metric = 'resolution' and r.resolved_at < st.as_of then r.resolved_at
        end as responded_at,
        st.as_of
    from received as r
    cross join settings as st
    inner join versions as v
        on v.channel = r.channel
        and v.service_code = r.service_code
        and r.received_on >= v.valid_from
        and (v.valid_to is null or r.received_on < v.valid_to)
        -- a kind-scoped version judges only requests of that kind (an unknown kind, none)
        and (v.request_kind is null or (v.request_kind = 'complaint' and r.is_complaint))
    where r.is_call or not (v.channel = 'phone' and coalesce(v.target_unit, 'seconds') = 'seconds')
),

framed as (
    select
        *,
        coalesce(responded_at, as_of) as measured_at,
        {{ local_date('coalesce(responded_at, as_of)') }} as measured_on
    from applicable
),

-- Each unit family flows through its own pipeline carrying every column of `framed`, and the
-- families are stacked with UNION ALL: no join back on (request_id, commitment_id), which on a
-- million requests cost more than the rules themselves (benchmarks/bench_engine.py).

-- Day-based units --------------------------------------------------------------------------
day_based as (
    select
        f.*,
        case f.target_unit
            when 'business_days' then d1.business_day_index - d0.business_day_index
            when 'working_days' then d1.working_day_index - d0.working_day_index
            else date_diff('day', f.received_on, f.measured_on)
        end as elapsed_days,
        case f.target_unit
            when 'business_days' then db.local_date
            when 'working_days' then dw.local_date
            else f.received_on + f.target_days
        end as day_deadline_on,
        cast(null as bigint) as elapsed_us,
        cast(null as timestamptz) as business_deadline_at
    from framed as f
    left join days as d0 on d0.service_code = f.service_code and d0.local_date = f.received_on
    left join days as d1
        on d1.service_code = f.service_code and d1.local_date = f.measured_on
    -- day 0 = the counting day whose index the receipt date takes; deadline = day 0 + N
    left join days as db
        on f.target_unit = 'business_days'
        and db.service_code = f.service_code
        and db.is_business_day
        and db.business_day_index = d0.business_day_index + f.target_days
    left join days as dw
        on f.target_unit = 'working_days'
        and dw.service_code = f.service_code
        and dw.is_working_day
        and dw.working_day_index = d0.working_day_index + f.target_days
    where f.unit_family = 'days'
),

-- Business minutes and hours: B(t) from the opening intervals of t's local day ------------
-- B(t) = cumulative minutes before the last interval starting at or before t, plus the part of
-- that interval already elapsed (capped at its length); 0 before the first interval.
-- A day's intervals lie inside that day (ranges end at 24:00 at the latest), so the last
-- interval starting at or before t is the last of t's local day starting at or before t or,
-- when there is none, the last interval of an earlier day, already over: B(t) is then the
-- count when that interval closed. Before the first opening day B(t) is 0; after the last, the
-- count at its last closing. Reading B(t) by equality on (service, local date) against one row
-- per day replaced ASOF joins, which sort their left side with every column it carries
-- (benchmarks/bench_engine.py).
intervals_by_day as (
    select
        service_code,
        local_date,
        list(start_us order by start_us) as interval_starts_us,
        list({ 'start_us': start_us, 'open_us': open_us, 'cum_us_before': cum_us_before } order by start_us)
            as day_intervals,
        arg_max(cum_us_before + open_us, start_us) as business_us_at_day_close
    from intervals
    group by service_code, local_date
),

opening_spans as (
    select
        service_code,
        min(local_date) as first_day,
        max(local_date) as last_day,
        arg_max(business_us_at_day_close, local_date) as business_us_at_last_close
    from intervals_by_day
    group by service_code
),

-- every date from a service's first opening day to its last, opening or not
business_days as (
    select
        o.service_code,
        o.local_date,
        coalesce(last_value(i.business_us_at_day_close ignore nulls) over (
            partition by o.service_code order by o.local_date rows between unbounded preceding and 1 preceding
        ), 0) as business_us_at_day_start,
        i.interval_starts_us,
        i.day_intervals
    from (
        select
            service_code,
            cast(
                unnest(generate_series(cast(first_day as timestamp), cast(last_day as timestamp), interval 1 day))
                as date
            ) as local_date
        from opening_spans
    ) as o
    left join intervals_by_day as i on i.service_code = o.service_code and i.local_date = o.local_date
),

business_located as (
    select
        f.*,
        sp.first_day as opening_first_day,
        sp.business_us_at_last_close,
        d0.local_date is not null as is_receipt_in_span,
        d0.business_us_at_day_start as business_us_at_receipt_day,
        -- the day's last interval starting at or before the instant (null: none)
        d0.day_intervals[len(list_filter(d0.interval_starts_us, lambda s: s <= epoch_us(f.received_at)))]
            as receipt_interval,
        d1.local_date is not null as is_measure_in_span,
        d1.business_us_at_day_start as business_us_at_measure_day,
        d1.day_intervals[len(list_filter(d1.interval_starts_us, lambda s: s <= epoch_us(f.measured_at)))]
            as measure_interval
    from framed as f
    left join opening_spans as sp on sp.service_code = f.service_code
    left join business_days as d0 on d0.service_code = f.service_code and d0.local_date = f.received_on
    left join business_days as d1 on d1.service_code = f.service_code and d1.local_date = f.measured_on
    where f.unit_family = 'business_time'
),

business_measured as (
    select
        b.* exclude (
            opening_first_day, business_us_at_last_close,
            is_receipt_in_span, business_us_at_receipt_day, receipt_interval,
            is_measure_in_span, business_us_at_measure_day, measure_interval
        ),
        case
            when not b.is_receipt_in_span and b.received_on < b.opening_first_day then 0
            when not b.is_receipt_in_span then coalesce(b.business_us_at_last_close, 0)
            when b.receipt_interval is null then b.business_us_at_receipt_day
            else b.receipt_interval.cum_us_before
                + least(b.receipt_interval.open_us, epoch_us(b.received_at) - b.receipt_interval.start_us)
        end as business_us_at_receipt,
        case
            when not b.is_measure_in_span and b.measured_on < b.opening_first_day then 0
            when not b.is_measure_in_span then coalesce(b.business_us_at_last_close, 0)
            when b.measure_interval is null then b.business_us_at_measure_day
            else b.measure_interval.cum_us_before
                + least(b.measure_interval.open_us, epoch_us(b.measured_at) - b.measure_interval.start_us)
        end as business_us_at_measure
    from business_located as b
),

-- The N-th business minute ends inside the last interval starting at or before it (strictly
-- before its end); when it ends exactly at a closing time, the next interval's cumulative
-- count equals it, so the deadline is that next opening. The ASOF join runs on narrow rows,
-- each distinct (service, count) once, joined back by equality.
business_deadline_counts as (
    select distinct service_code, business_us_at_receipt + target_us as business_us
    from business_measured
),

business_deadlines as (
    select
        c.service_code,
        c.business_us,
        i.interval_start_at + to_microseconds(c.business_us - i.cum_us_before) as business_deadline_at
    from business_deadline_counts as c
    asof left join intervals as i
        on i.service_code = c.service_code and c.business_us >= i.cum_us_before
),

business_time as (
    select
        b.* exclude (business_us_at_receipt, business_us_at_measure),
        cast(null as integer) as elapsed_days,
        cast(null as date) as day_deadline_on,
        b.business_us_at_measure - b.business_us_at_receipt as elapsed_us,
        d.business_deadline_at
    from business_measured as b
    left join business_deadlines as d
        on d.service_code = b.service_code and d.business_us = b.business_us_at_receipt + b.target_us
),

-- Seconds (phone wait) and commitments without a target: no calendar ----------------------
no_calendar as (
    select
        f.*,
        cast(null as integer) as elapsed_days,
        cast(null as date) as day_deadline_on,
        cast(null as bigint) as elapsed_us,
        cast(null as timestamptz) as business_deadline_at
    from framed as f
    where f.unit_family is null or f.unit_family = 'seconds'
),

-- All units together ----------------------------------------------------------------------
measured as (
    select
        *,
        -- phone wait: the hold time before CONNECT when the source gives it, else the clock
        case
            when unit_family = 'seconds' and responded_at is not null
                then coalesce(wait_seconds, date_diff('millisecond', received_at, responded_at) / 1000.0)
        end as elapsed_seconds
    from (
        select * from day_based
        union all by name
        select * from business_time
        union all by name
        select * from no_calendar
    ) as units
),

valued as (
    select
        *,
        case unit_family
            when 'days' then
                case when target_unit = 'weeks' then elapsed_days / 7.0 else cast(elapsed_days as double) end
            when 'business_time' then
                elapsed_us / case when target_unit = 'business_hours' then 3600000000.0 else 60000000.0 end
            when 'seconds' then elapsed_seconds
            -- pickup rate of calls: report the wait when there is one
            else case when is_call and responded_at is not null then wait_seconds end
        end as elapsed_value,
        coalesce(
            target_unit,
            case when is_call and responded_at is not null and wait_seconds is not null then 'seconds' end
        ) as elapsed_unit,
        case unit_family
            when 'days' then {{ local_instant("day_deadline_on + interval '23 hours 59 minutes 59 seconds'") }}
            when 'business_time' then business_deadline_at
            when 'seconds' then received_at + to_microseconds(cast(round(target_value * 1000000) as bigint))
        end as deadline_at,
        case unit_family
            when 'days' then elapsed_days <= target_days
            when 'business_time' then elapsed_us <= target_us
            when 'seconds' then elapsed_seconds <= target_value
        end as is_within_target
    from measured
),

decided as (
    select
        *,
        case
            when is_excluded then 'excluded'
            when responded_at < received_at then 'excluded'
            -- a call is decided when it ends: never pending nor overdue
            when is_call and responded_at is null then 'missed'
            when target_value is null and responded_at is not null then 'met'
            when target_value is null then 'pending'
            when responded_at is not null and is_within_target then 'met'
            when responded_at is not null then 'missed'
            when is_within_target then 'pending'
            else 'overdue'
        end as status,
        case
            when is_excluded then coalesce(exclusion_reason, 'excluded')
            when responded_at < received_at then 'response_before_receipt'
        end as evaluation_exclusion_reason
    from valued
)

select
    request_id,
    request_ref,
    commitment_id,
    version_valid_from,
    service_code,
    channel,
    metric,
    target_value,
    target_unit,
    received_at,
    received_on,
    deadline_at,
    responded_at,
    -- an excluded evaluation is out of scope: nothing is measured
    case when status <> 'excluded' then elapsed_value end as elapsed_value,
    elapsed_unit,
    status,
    evaluation_exclusion_reason as exclusion_reason,
    -- the local date whose period counts this row: the deadline's, except for calls and
    -- commitments without a target (decided at, or counted by, receipt)
    case
        when is_call or target_value is null or deadline_at is null then received_on
        -- a day-based deadline is 23:59:59 local on day_deadline_on: that date, no conversion
        when unit_family = 'days' then day_deadline_on
        else {{ local_date('deadline_at') }}
    end as counted_on,
    as_of as evaluated_as_of
from decided
