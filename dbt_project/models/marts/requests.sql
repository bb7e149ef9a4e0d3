{#- Every request of every channel known as of the night, with its exclusion (BI contract). -#}
select
    request_id,
    request_ref,
    source_system,
    channel,
    service_code,
    received_at,
    first_response_at,
    acknowledged_at,
    resolved_at,
    requester_key,
    is_excluded,
    exclusion_reason,
    is_complaint
from {{ ref('int_requests_unioned') }}
where received_at < {{ as_of() }}
