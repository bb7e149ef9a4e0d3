{#- Wazo call-logd's queue quality of service (GET /1.0/queues/{id}/statistics/qos): per queue,
    interval (hour, day, month: as phone_queue_statistics) and waiting-time band, the answered
    and abandoned visits whose waittime lies in [band_min_seconds, band_max_seconds) (lower
    bound inclusive, upper exclusive, the last band open), bands cut at
    var('wazo_qos_thresholds', [5, 10, 15, 20, 30]) as call-logd's qos_thresholds. Every band
    of an interval with a visit has a row (0 when empty), as call-logd lists them. Vigie's own
    wait bands (phone_indicators.answered_wait_*) have inclusive upper bounds: another reading
    (DECISIONLOG.md, Part 4, "Wazo's answered rate"). -#}
{%- set thresholds = var('wazo_qos_thresholds', [5, 10, 15, 20, 30]) | sort %}
with visits as (
    select
        *,
        {{ local_date('entered_at') }} as entered_on
    from {{ ref('int_phone_queue_visits') }}
    where wazo_status in ('answered', 'abandoned')
      and entered_at < {{ as_of() }}
),

placed as (
    {{ wazo_intervals('visits') }}
),

bands as (
    select * from (values
        (0, {{ thresholds[0] if thresholds else 'null' }})
        {%- for i in range(thresholds | length) %},
        ({{ thresholds[i] }}, {{ thresholds[i + 1] if i + 1 < thresholds | length else 'null' }})
        {%- endfor %}
    ) as b (band_min_seconds, band_max_seconds)
),

intervals as (
    select distinct
        period_grain, period_start_at, period_end_at, period_start_on, source_id, queue_name,
        service_code
    from placed
    where period_start_on <= {{ run_day() }}
)

select
    intervals.period_grain,
    intervals.period_start_at,
    intervals.period_end_at,
    cast(intervals.period_start_at at time zone {{ vigie_tz() }} as timestamp) as period_start_local,
    intervals.source_id,
    intervals.queue_name,
    intervals.service_code,
    cast(bands.band_min_seconds as integer) as band_min_seconds,
    cast(bands.band_max_seconds as integer) as band_max_seconds,
    cast(count(placed.wazo_status) filter (where placed.wazo_status = 'answered') as bigint) as answered,
    cast(count(placed.wazo_status) filter (where placed.wazo_status = 'abandoned') as bigint) as abandoned,
    intervals.period_end_at <= {{ as_of() }} as is_final
from intervals
cross join bands
left join placed
    on intervals.period_grain = placed.period_grain
    and intervals.period_start_at = placed.period_start_at
    and intervals.source_id = placed.source_id
    and intervals.queue_name = placed.queue_name
    and placed.waittime_seconds >= bands.band_min_seconds
    and (bands.band_max_seconds is null or placed.waittime_seconds < bands.band_max_seconds)
group by all
