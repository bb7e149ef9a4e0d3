{#- One row per service and local date over [calendar_start, calendar_end]: what kind of day it
    is for that service, and the day indices that make the day-based rule of domain.md §5 a
    lookup. For a unit U (business_days, working_days), the index of a date is the number of
    U-days up to it, and a date that does not count (Sunday, holiday, closure) takes the index
    of the NEXT counting day: index = running count + (0 if it counts else 1). The elapsed value
    between two instants is then index(local date 2) - index(local date 1).
    Opening hours do not make a day a jour ouvré or not (a service closed on Wednesdays still
    has Wednesday as a jour ouvré); only the weekday, public holidays (unless declared worked)
    and closures of the collectivité or of the service do. -#}
with settings as (
    select calendar_start, calendar_end from {{ source('config', 'settings') }}
),

dates as (
    select cast(unnest(generate_series(
        cast(calendar_start as timestamp), cast(calendar_end as timestamp), interval 1 day
    )) as date) as local_date
    from settings
),

services as (
    select service_code from {{ source('config', 'services') }}
),

holidays as (
    select holiday_on, min(holiday_name) as holiday_name, bool_and(is_worked) as is_worked
    from {{ source('config', 'public_holidays') }}
    group by holiday_on
),

closures as (
    -- A closure of the whole collectivité (service_code null) applies to every service.
    select
        s.service_code,
        c.closed_on,
        -- the service's own reason first, then the collectivité's
        arg_min(c.reason, case when c.service_code is null then 1 else 0 end) as closure_reason
    from {{ source('config', 'closures') }} as c
    inner join services as s on c.service_code is null or c.service_code = s.service_code
    group by s.service_code, c.closed_on
),

classified as (
    select
        s.service_code,
        d.local_date,
        cast(isodow(d.local_date) as integer) as isodow,
        h.holiday_name,
        coalesce(h.is_worked, false) as is_holiday_worked,
        h.holiday_on is not null and not h.is_worked as is_public_holiday,
        c.closure_reason,
        c.closed_on is not null as is_closed
    from services as s
    cross join dates as d
    left join holidays as h on h.holiday_on = d.local_date
    left join closures as c on c.service_code = s.service_code and c.closed_on = d.local_date
),

flagged as (
    select
        *,
        isodow <= 5 and not is_public_holiday and not is_closed as is_business_day,
        isodow <= 6 and not is_public_holiday and not is_closed as is_working_day
    from classified
)

select
    service_code,
    local_date,
    isodow,
    holiday_name,
    is_holiday_worked,
    is_public_holiday,
    closure_reason,
    is_closed,
    is_business_day,
    is_working_day,
    cast(sum(case when is_business_day then 1 else 0 end) over (
        partition by service_code order by local_date rows between unbounded preceding and current row
    ) + case when is_business_day then 0 else 1 end as integer) as business_day_index,
    cast(sum(case when is_working_day then 1 else 0 end) over (
        partition by service_code order by local_date rows between unbounded preceding and current row
    ) + case when is_working_day then 0 else 1 end as integer) as working_day_index,
    {{ local_instant('local_date') }} as day_start_at
from flagged
