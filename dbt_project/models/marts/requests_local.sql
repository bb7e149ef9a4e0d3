{#- The requests of the BI contract with the local wall-clock twins of their instants (in the
    collectivité's zone, what a clock on the wall and the service's mail client show) and the
    service's name. Instants stay UTC in marts.requests (domain.md §4); these columns are for
    people reading them, and a DST day is right because the zone, not an offset, converts. -#}
select
    r.request_id,
    r.request_ref,
    r.source_system,
    r.channel,
    r.service_code,
    s.service_name,
    {{ local_date('r.received_at') }} as received_on,
    r.received_at,
    cast(r.received_at at time zone {{ vigie_tz() }} as timestamp) as received_at_local,
    r.first_response_at,
    cast(r.first_response_at at time zone {{ vigie_tz() }} as timestamp) as first_response_at_local,
    r.acknowledged_at,
    cast(r.acknowledged_at at time zone {{ vigie_tz() }} as timestamp) as acknowledged_at_local,
    r.resolved_at,
    cast(r.resolved_at at time zone {{ vigie_tz() }} as timestamp) as resolved_at_local,
    r.is_excluded,
    r.exclusion_reason,
    r.is_complaint
from {{ ref('requests') }} as r
left join {{ ref('services') }} as s on s.service_code = r.service_code
