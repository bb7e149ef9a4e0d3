-- Requests from courrier registers and other tools' exports, in the request shape: one row per
-- register row received before as_of. The connector already mapped channel and service from the
-- configuration; instants at or after as_of are not known yet (null), as for tickets.
with night as (
    select {{ as_of() }} as as_of
)

select
    'reg:' || r.source_id || ':' || r.register_request_id as request_id,
    r.register_request_id as request_ref,
    'request_register' as source_system,
    r.source_id,
    r.register_request_id,
    r.channel,
    r.service_code,
    case when r.service_code is null then 'unmapped' else 'mapped' end as service_mapping,
    r.category,
    r.is_complaint,
    r.received_at,
    case when r.first_response_at < night.as_of then r.first_response_at end as first_response_at,
    case when r.acknowledged_at < night.as_of then r.acknowledged_at end as acknowledged_at,
    case when r.resolved_at < night.as_of then r.resolved_at end as resolved_at,
    r.requester_key,
    false as is_excluded,
    cast(null as varchar) as exclusion_reason,
    cast(null as double) as wait_seconds,
    cast(null as varchar) as call_outcome,
    0 as reminder_count
from {{ ref('stg_register__requests') }} as r
cross join night
where r.received_at < night.as_of
