{#- Time helpers shared by the calendar, the commitment engine and the marts.
    Instants are TIMESTAMPTZ (UTC); calendars are computed in the collectivité's zone, passed by
    vigie/transform.py as var('timezone'). Local wall-clock timestamps are converted with the zone
    (DuckDB ICU: `naive AT TIME ZONE zone` -> instant), never with fixed offsets, so DST days
    are right. -#}

{% macro vigie_tz() -%}
'{{ var("timezone") }}'
{%- endmacro %}

{#- Local calendar date of an instant, in the collectivité's zone. -#}
{% macro local_date(instant) -%}
cast(({{ instant }}) at time zone {{ vigie_tz() }} as date)
{%- endmacro %}

{#- Instant of a local wall-clock timestamp (naive) in the collectivité's zone. -#}
{% macro local_instant(local_timestamp) -%}
(cast({{ local_timestamp }} as timestamp) at time zone {{ vigie_tz() }})
{%- endmacro %}

{#- The instant statuses are evaluated at: 00:00 local of the day after the night's day (UTC).
    From var('as_of') when given, else from config.settings (written by vigie/transform.py before
    every build). WHY the table: a var that changes every night makes dbt throw away its partial
    parse and re-parse the whole project (about 3 s a night); a value read in SQL does not. -#}
{% macro as_of() -%}
{%- if var('as_of', none) is not none -%}
cast('{{ var("as_of") }}' as timestamptz)
{%- else -%}
(select as_of from {{ source('config', 'settings') }})
{%- endif -%}
{%- endmacro %}

{#- The night's day being evaluated (var('run_day') when given, else config.settings). -#}
{% macro run_day() -%}
{%- if var('run_day', none) is not none -%}
cast('{{ var("run_day") }}' as date)
{%- else -%}
(select run_day from {{ source('config', 'settings') }})
{%- endif -%}
{%- endmacro %}
