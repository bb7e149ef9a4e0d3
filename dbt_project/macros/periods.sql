{#-
    The one definition of the reporting periods (DECISIONLOG Part 2, "Which period a row
    belongs to"): a day, an ISO week starting on Monday, a calendar month, all in local dates.
    period_start(grain, local_date) -> the first day of the period holding local_date;
    period_end(grain, start) -> the exclusive end of the period starting at start.
-#}
{#- The reporting grains, as a relation with one column period_grain. -#}
{% macro period_grains() -%}
    select * from (values ('day'), ('week'), ('month')) as g (period_grain)
{%- endmacro %}

{% macro period_start(grain, local_date) -%}
    case {{ grain }}
        when 'day' then {{ local_date }}
        when 'week' then cast(date_trunc('week', {{ local_date }}) as date)
        else cast(date_trunc('month', {{ local_date }}) as date)
    end
{%- endmacro %}

{% macro period_end(grain, start) -%}
    case {{ grain }}
        when 'day' then {{ start }} + interval 1 day
        when 'week' then {{ start }} + interval 7 day
        else {{ start }} + interval 1 month
    end
{%- endmacro %}

{#-
    The one definition of finality: a period is final once its last day is the night's day or
    earlier (its exclusive end at most the day after the night): no later night can add a row
    to it, since a row counts in the period of its deadline (DECISIONLOG Part 2, "Rate, breach,
    finality").
-#}
{% macro is_period_final(period_end) -%}
    cast({{ period_end }} as date) <= {{ run_day() }} + 1
{%- endmacro %}

{#-
    The one definition of backlog age bands (email and ticket indicators): calendar days
    between the local receipt date and the night's day, in bands 0-7, 8-14, 15-30, 31-60, 61+.
-#}
{% macro backlog_age_band(received_on) -%}
    case
        when {{ run_day() }} - {{ received_on }} <= 7 then '0-7'
        when {{ run_day() }} - {{ received_on }} <= 14 then '8-14'
        when {{ run_day() }} - {{ received_on }} <= 30 then '15-30'
        when {{ run_day() }} - {{ received_on }} <= 60 then '31-60'
        else '61+'
    end
{%- endmacro %}

{#-
    The one definition of a request's volume periods: every request known to the night (received
    before as_of), once per grain, in the period of its local date of receipt. Read by the volume
    rows of service_indicators and by exclusion_reasons, so a cell's reasons add up to its
    requests_excluded. request_receipt_days() is the same rows once each, with received_on (the
    local date of receipt) in place of the period: service_indicators adds them up per day before
    placing them in the periods (issue 16), and the zone conversion runs once per request.
-#}
{% macro request_receipt_days() -%}
    select
        {{ local_date('r.received_at') }} as received_on,
        r.service_code,
        r.channel,
        r.is_excluded,
        r.exclusion_reason
    from {{ ref('int_requests_unioned') }} as r
    where r.received_at < {{ as_of() }}
{%- endmacro %}

{% macro request_receipt_periods() -%}
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'r.received_on') }} as period_start,
        r.service_code,
        r.channel,
        r.is_excluded,
        r.exclusion_reason
    from ({{ request_receipt_days() }}) as r
    cross join ({{ period_grains() }}) as g
{%- endmacro %}
