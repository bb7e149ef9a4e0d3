{#- Each request judged against each commitment that applies to it (BI contract). All rules
    live in int_commitment_evaluations; this mart only selects and types the contract. -#}
select
    request_id,
    request_ref,
    commitment_id,
    service_code,
    channel,
    received_at,
    deadline_at,
    responded_at,
    elapsed_value,
    elapsed_unit,
    status,
    exclusion_reason,
    evaluated_as_of,
    counted_on
from {{ ref('int_commitment_evaluations') }}
