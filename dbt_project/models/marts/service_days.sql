{#- Per service and local date: jour ouvré / ouvrable and closure, straight from the engine's
    calendar (int_service_days_classified, the one definition), so that a BI user counts
    business days exactly as the commitments do. -#}
select
    service_code,
    local_date as calendar_date,
    is_business_day,
    is_working_day,
    is_public_holiday,
    is_closed,
    closure_reason
from {{ ref('int_service_days_classified') }}
