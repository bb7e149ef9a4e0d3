{#- The dates dimension of the BI contract: one row per local date of the calendar the engine
    uses (config.settings calendar_start..calendar_end), with ISO week, month, French day and
    month names and the collectivité's public holidays. Whether a date is a jour ouvré or
    ouvrable depends on the service (its closures): that is service_days. Names are written here
    rather than with strftime because DuckDB formats dates in English only. -#}
with days as (
    select distinct local_date, isodow, holiday_name, is_public_holiday, is_holiday_worked
    from {{ ref('int_service_days_classified') }}
)

select
    local_date as calendar_date,
    cast(year(local_date) as integer) as year,
    cast(month(local_date) as integer) as month_number,
    cast(date_trunc('month', local_date) as date) as month_start,
    ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre',
        'octobre', 'novembre', 'décembre'][month(local_date)] as month_name_fr,
    cast(isoyear(local_date) as integer) as iso_year,
    cast(weekofyear(local_date) as integer) as iso_week,
    cast(isoyear(local_date) as varchar) || '-W' || lpad(cast(weekofyear(local_date) as varchar), 2, '0')
        as iso_week_label,
    cast(date_trunc('week', local_date) as date) as week_start,
    cast(isodow as integer) as day_of_week,
    ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'][isodow] as day_name_fr,
    isodow >= 6 as is_weekend,
    holiday_name as public_holiday_name,
    is_public_holiday,
    is_holiday_worked
from days
