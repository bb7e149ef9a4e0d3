{#- Wazo call-logd's queue quality of service (GET /1.0/queues/{id}/statistics/qos): per queue,
    interval (hour, day, month: as phone_queue_statistics) and waiting-time band, the answered
    and abandoned visits whose waittime lies in [band_min_seconds, band_max_seconds) (lower
    bound inclusive, upper exclusive, the last band open), bands cut at
    var('wazo_qos_thresholds', [5, 10, 15, 20, 30]) as call-logd's qos_thresholds. Every band
    of an interval with a visit has a row (0 when empty), as call-logd lists them. Vigie's own
    wait bands (phone_indicators.answered_wait_*) have inclusive upper bounds: another reading
    (DECISIONLOG.md, Part 4, "Wazo's answered rate"). -#}
{%- set thresholds = var('wazo_qos_thresholds', [5, 10, 15, 20, 30]) | sort %}
{%- set band_bounds = [(0, thresholds[0] if thresholds else none)] %}
{%- for i in range(thresholds | length) %}
{%- do band_bounds.append((thresholds[i], thresholds[i + 1] if i + 1 < thresholds | length else none)) %}
{%- endfor %}
{#- Issue 16: each visit's band is found once (band_number: the band whose bounds hold its
    waittime, the same tests as the bands' own; null when none does), the visits are added up
    per hour, local date, queue and band before they are placed in the intervals, and the
    bands are joined on their number: an equi-join, not a range join of every interval and
    band with every visit. -#}
with visits as (
    select
        {{ wazo_hour('entered_at') }} as entered_hour,
        {{ local_date('entered_at') }} as entered_on,
        source_id,
        queue_name,
        service_code,
        case
            {%- for band_min, band_max in band_bounds %}
            when waittime_seconds >= {{ band_min }}
                {%- if band_max is not none %} and waittime_seconds < {{ band_max }}{% endif %}
                then {{ loop.index0 }}
            {%- endfor %}
        end as band_number,
        count(*) filter (where wazo_status = 'answered') as answered,
        count(*) filter (where wazo_status = 'abandoned') as abandoned
    from {{ ref('int_phone_queue_visits') }}
    where wazo_status in ('answered', 'abandoned')
      and entered_at < {{ as_of() }}
    group by all
),

placed as (
    {{ wazo_intervals('visits') }}
),

bands as (
    select * from (values
        {%- for band_min, band_max in band_bounds %}
        ({{ loop.index0 }}, {{ band_min }}, {{ 'null' if band_max is none else band_max }})
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    ) as b (band_number, band_min_seconds, band_max_seconds)
),

band_counts as (
    select
        period_grain,
        period_start_at,
        source_id,
        queue_name,
        band_number,
        sum(answered) as answered,
        sum(abandoned) as abandoned
    from placed
    where band_number is not null
    group by all
),

intervals as (
    select
        *,
        cast(period_start_at at time zone {{ vigie_tz() }} as timestamp) as period_start_local,
        period_end_at <= {{ as_of() }} as is_final
    from (
        select distinct
            period_grain, period_start_at, period_end_at, period_start_on, source_id, queue_name,
            service_code
        from placed
        where period_start_on <= {{ run_day() }}
    )
)

select
    intervals.period_grain,
    intervals.period_start_at,
    intervals.period_end_at,
    intervals.period_start_local,
    intervals.source_id,
    intervals.queue_name,
    intervals.service_code,
    cast(bands.band_min_seconds as integer) as band_min_seconds,
    cast(bands.band_max_seconds as integer) as band_max_seconds,
    cast(coalesce(band_counts.answered, 0) as bigint) as answered,
    cast(coalesce(band_counts.abandoned, 0) as bigint) as abandoned,
    intervals.is_final
from intervals
cross join bands
left join band_counts
    on intervals.period_grain = band_counts.period_grain
    and intervals.period_start_at = band_counts.period_start_at
    and intervals.source_id = band_counts.source_id
    and intervals.queue_name = band_counts.queue_name
    and bands.band_number = band_counts.band_number
