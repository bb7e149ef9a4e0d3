{#-
    wazo_intervals(relation): every row of `relation` (which has entered_hour, the number of the
    real hour of its arrival since the epoch, wazo_hour(entered_at), and entered_on, the
    arrival's local date) once per interval grain of Wazo call-logd's statistics, with
    period_grain ('hour', 'day', 'month'), period_start_at / period_end_at (instants) and
    period_start_on (local date of the start). WHY a macro of its own: call-logd's intervals
    are not Vigie's reporting grains (period_grains: day, ISO week, month): it has hours and no
    weeks. An hour is the real hour of the instant (epoch arithmetic, independent of the
    session time zone; every collectivité zone has whole-hour offsets, so it is a local hour
    too); a day and a month run from local midnight, so a DST day lasts 23 or 25 hours.
    WHY hour and date rather than the instant: the callers first add their visits up per
    (entered_hour, entered_on, queue, ...) (issue 16: about two visits a queue-hour, and the
    zone conversions below then run once per group rather than once per visit); the pair
    keeps each visit's own local date, whatever the zone's offset.
    Used by marts.phone_queue_statistics and marts.phone_queue_qos_bands.
-#}
{% macro wazo_hour(instant) -%}
    floor(epoch({{ instant }}) / 3600)
{%- endmacro %}

{% macro wazo_intervals(relation) -%}
    select
        'hour' as period_grain,
        to_timestamp(entered_hour * 3600) as period_start_at,
        to_timestamp(entered_hour * 3600 + 3600) as period_end_at,
        {{ local_date('to_timestamp(entered_hour * 3600)') }} as period_start_on,
        *
    from {{ relation }}
    union all
    select
        'day' as period_grain,
        {{ local_instant('entered_on') }} as period_start_at,
        {{ local_instant('entered_on + interval 1 day') }} as period_end_at,
        entered_on as period_start_on,
        *
    from {{ relation }}
    union all
    select
        'month' as period_grain,
        {{ local_instant("date_trunc('month', entered_on)") }} as period_start_at,
        {{ local_instant("date_trunc('month', entered_on) + interval 1 month") }} as period_end_at,
        cast(date_trunc('month', entered_on) as date) as period_start_on,
        *
    from {{ relation }}
{%- endmacro %}
