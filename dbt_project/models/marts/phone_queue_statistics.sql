{#- Wazo call-logd's queue statistics (GET /1.0/queues/statistics), reproduced per queue and per
    hour, day and month interval from the queue_log, so that a Wazo site reads the very figures
    its Wazo shows (DECISIONLOG.md, Part 4, "Wazo's answered rate"). From wazo-call-logd's
    QueueStatDAO and its schema:
    - received = every visit with a Wazo status (wazo-stat's stat_queue_periodic.total);
    - answered_rate = round(100 * answered / (answered + abandoned + full + leaveempty +
      joinempty + timeout), 2): closed and diverted calls are out of the denominator;
    - average_waiting_time = int(round(sum of every visit's waittime / (answered + abandoned +
      leaveempty + timeout), 2)) (call-logd dumps it as an integer);
    - quality_of_service = round(100 * answered with waittime <= qos_threshold / answered, 2),
      qos_threshold = var('wazo_qos_threshold_seconds', 20);
    - not_answered = timeout, saturated = full + divert_waittime + divert_ca_ratio,
      blocked = joinempty + leaveempty.
    Intervals in the collectivité's zone: an hour is a real hour (its start instant; every
    collectivité zone has whole-hour offsets), a day and a month run from local midnight.
    A visit counts in the interval of its arrival. Intervals without any visit have no row.
    Vigie's own taux de décroché (answered / offered calls, per service) is
    phone_indicators.pickup_rate. -#}
{%- set qos_threshold = var('wazo_qos_threshold_seconds', 20) %}
{#- Issue 16: the visits are added up per hour, local date, queue and status first (about two
    visits a queue-hour), then placed in the intervals and added up again: every figure is a
    count or a sum. -#}
{%- set statuses = ['answered', 'abandoned', 'closed', 'timeout', 'full', 'joinempty', 'leaveempty',
                    'divert_ca_ratio', 'divert_waittime'] %}
with visits as (
    select
        {{ wazo_hour('entered_at') }} as entered_hour,
        {{ local_date('entered_at') }} as entered_on,
        source_id,
        queue_name,
        service_code,
        wazo_status,
        count(*) as visits,
        count(*) filter (where waittime_seconds <= {{ qos_threshold }}) as visits_within_qos,
        sum(waittime_seconds) as waittime
    from {{ ref('int_phone_queue_visits') }}
    where wazo_status is not null
      and entered_at < {{ as_of() }}
    group by all
),

placed as (
    {{ wazo_intervals('visits') }}
),

counted as (
    select
        period_grain,
        period_start_at,
        period_end_at,
        period_start_on,
        source_id,
        queue_name,
        service_code,
        cast(sum(visits) as bigint) as received,
        {%- for status in statuses %}
        cast(coalesce(sum(visits) filter (where wazo_status = '{{ status }}'), 0) as bigint)
            as {{ 'full_' if status == 'full' else status }},
        {%- endfor %}
        cast(coalesce(sum(visits_within_qos) filter (where wazo_status = 'answered'), 0) as bigint)
            as answered_within_qos,
        coalesce(sum(waittime), 0) as total_waittime
    from placed
    where period_start_on <= {{ run_day() }}
    group by all
)

select
    period_grain,
    period_start_at,
    period_end_at,
    cast(period_start_at at time zone {{ vigie_tz() }} as timestamp) as period_start_local,
    source_id,
    queue_name,
    service_code,
    cast(received as bigint) as received,
    cast(answered as bigint) as answered,
    cast(abandoned as bigint) as abandoned,
    cast(closed as bigint) as closed,
    cast(timeout as bigint) as not_answered,
    cast(full_ + divert_waittime + divert_ca_ratio as bigint) as saturated,
    cast(joinempty + leaveempty as bigint) as blocked,
    cast(full_ as bigint) as full_calls,
    cast(joinempty as bigint) as joinempty_calls,
    cast(leaveempty as bigint) as leaveempty_calls,
    cast(divert_ca_ratio as bigint) as divert_ca_ratio_calls,
    cast(divert_waittime as bigint) as divert_waittime_calls,
    case
        when answered + abandoned + leaveempty + timeout > 0
            then cast(trunc(round(total_waittime / (answered + abandoned + leaveempty + timeout), 2)) as bigint)
    end as average_waiting_time,
    case
        when answered + abandoned + full_ + leaveempty + joinempty + timeout > 0
            then cast(
                round(100.0 * answered / (answered + abandoned + full_ + leaveempty + joinempty + timeout), 2)
                as double
            )
    end as answered_rate,
    cast({{ qos_threshold }} as integer) as qos_threshold_seconds,
    case
        when answered > 0 then cast(round(100.0 * answered_within_qos / answered, 2) as double)
    end as quality_of_service,
    period_end_at <= {{ as_of() }} as is_final
from counted
