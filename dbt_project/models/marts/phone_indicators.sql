{#- Phone indicators per period (day, ISO week from Monday, month) and service, from every call
    (int_phone_calls_unioned: one row per call of a queue_log site or a CDR-only site, its
    outcome and wait; a CDR-only call is answered, abandoned or out_of_hours). Periods by
    local date of the call's first arrival; only periods starting on or before the night's day;
    calls received before as_of. Definitions (domain.md §5 Phone,
    DECISIONLOG.md Part 4 §13):
    - calls_received: every call; calls_offered = received - out_of_hours - short_abandon
      (orphans are offered and not answered);
    - pickup_rate (taux de décroché) = answered / offered;
    - abandon_rate = abandoned / offered (caller hung up after the short threshold; exit_key,
      timeouts and service-side exits are counted apart);
    - average_speed_of_answer_seconds = mean wait of answered calls;
    - wait bands over answered calls, upper bound inclusive (a 15 s wait is in 0-15, the reading
      of "answered within 15 s"): [0,15], (15,30], (30,45], (45,60], (60,90], (90,inf);
    - wazo_answered_rate = Wazo call-logd's answered_rate over the service's queue visits
      (int_phone_queue_visits), as a fraction: answered / (answered + abandoned + full +
      leaveempty + joinempty + timeout), closed and diverted calls out of the denominator, every
      queue a call visits counted (marts.phone_queue_statistics has it per queue and hour,
      rounded as Wazo shows it); null for a CDR-only service (no queue visits). Shown beside
      pickup_rate so that a Wazo site can reconcile (DECISIONLOG.md, Part 4, "Wazo's answered
      rate").
    Answered within T per phone commitment comes from the engine: phone_commitment_indicators. -#}
with grains as (
    {{ period_grains() }}
),

calls as (
    select
        service_code,
        call_outcome,
        wait_seconds,
        {{ local_date('received_at') }} as received_on
    from {{ ref('int_phone_calls_unioned') }}
    where received_at < {{ as_of() }}
),

call_periods as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'c.received_on') }} as period_start,
        c.*
    from calls as c
    cross join grains as g
),

-- Issue 16: the queue visits are counted per day first, then per period (counts add).
wazo_days as (
    select
        service_code,
        wazo_status,
        {{ local_date('entered_at') }} as entered_on,
        count(*) as visits
    from {{ ref('int_phone_queue_visits') }}
    where wazo_status is not null
      and service_code is not null
      and entered_at < {{ as_of() }}
    group by all
),

wazo_counted as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'v.entered_on') }} as period_start,
        v.service_code,
        cast(coalesce(sum(v.visits) filter (where v.wazo_status = 'answered'), 0) as bigint) as wazo_answered,
        cast(coalesce(sum(v.visits) filter (
            where v.wazo_status in ('answered', 'abandoned', 'full', 'leaveempty', 'joinempty', 'timeout')
        ), 0) as bigint) as wazo_denominator
    from wazo_days as v
    cross join grains as g
    group by all
),

counted as (
    select
        period_grain,
        period_start,
        service_code,
        count(*) as calls_received,
        count(*) filter (where call_outcome not in ('out_of_hours', 'short_abandon')) as calls_offered,
        count(*) filter (where call_outcome = 'answered') as calls_answered,
        count(*) filter (where call_outcome = 'abandoned') as calls_abandoned,
        count(*) filter (where call_outcome = 'short_abandon') as short_abandons,
        count(*) filter (where call_outcome = 'exit_key') as exit_key_calls,
        count(*) filter (where call_outcome = 'timeout') as timeout_calls,
        count(*) filter (where call_outcome = 'exit_empty') as exit_empty_calls,
        count(*) filter (where call_outcome = 'out_of_hours') as out_of_hours_calls,
        count(*) filter (where call_outcome = 'orphan') as orphan_calls,
        avg(wait_seconds) filter (where call_outcome = 'answered') as average_speed_of_answer_seconds,
        count(*) filter (where call_outcome = 'answered' and wait_seconds <= 15) as answered_wait_0_15,
        count(*) filter (
            where call_outcome = 'answered' and wait_seconds > 15 and wait_seconds <= 30
        ) as answered_wait_15_30,
        count(*) filter (
            where call_outcome = 'answered' and wait_seconds > 30 and wait_seconds <= 45
        ) as answered_wait_30_45,
        count(*) filter (
            where call_outcome = 'answered' and wait_seconds > 45 and wait_seconds <= 60
        ) as answered_wait_45_60,
        count(*) filter (
            where call_outcome = 'answered' and wait_seconds > 60 and wait_seconds <= 90
        ) as answered_wait_60_90,
        count(*) filter (where call_outcome = 'answered' and wait_seconds > 90) as answered_wait_90_plus
    from call_periods
    where period_start <= {{ run_day() }}
    group by all
)

select
    counted.period_grain,
    counted.period_start,
    cast({{ period_end('counted.period_grain', 'counted.period_start') }} as date) as period_end,
    counted.service_code,
    cast(calls_received as bigint) as calls_received,
    cast(calls_offered as bigint) as calls_offered,
    cast(calls_answered as bigint) as calls_answered,
    case when calls_offered > 0 then calls_answered / calls_offered end as pickup_rate,
    cast(calls_abandoned as bigint) as calls_abandoned,
    case when calls_offered > 0 then calls_abandoned / calls_offered end as abandon_rate,
    cast(short_abandons as bigint) as short_abandons,
    cast(exit_key_calls as bigint) as exit_key_calls,
    cast(timeout_calls as bigint) as timeout_calls,
    cast(exit_empty_calls as bigint) as exit_empty_calls,
    cast(out_of_hours_calls as bigint) as out_of_hours_calls,
    cast(orphan_calls as bigint) as orphan_calls,
    cast(average_speed_of_answer_seconds as double) as average_speed_of_answer_seconds,
    cast(answered_wait_0_15 as bigint) as answered_wait_0_15,
    cast(answered_wait_15_30 as bigint) as answered_wait_15_30,
    cast(answered_wait_30_45 as bigint) as answered_wait_30_45,
    cast(answered_wait_45_60 as bigint) as answered_wait_45_60,
    cast(answered_wait_60_90 as bigint) as answered_wait_60_90,
    cast(answered_wait_90_plus as bigint) as answered_wait_90_plus,
    case
        when wazo_counted.wazo_denominator > 0
            then wazo_counted.wazo_answered / wazo_counted.wazo_denominator
    end as wazo_answered_rate,
    {{ is_period_final(period_end('counted.period_grain', 'counted.period_start')) }} as is_final
from counted
left join wazo_counted
    on counted.period_grain = wazo_counted.period_grain
    and counted.period_start = wazo_counted.period_start
    and counted.service_code = wazo_counted.service_code
