-- Rows of courrier registers and other tools' exports (register_requests), one row per
-- (source_id, register request id), from the LATEST batch of each source only: a register batch
-- is a snapshot of the whole export (connectors/registers/request_register.py), so a row that
-- left the export (deleted, or corrected to another id) must leave the warehouse too.
with landed as (
    select * from {{ landing_scan('register_requests') }}
),

latest_batch as (
    select *
    from landed
    qualify cast(day as date) = max(cast(day as date)) over (partition by source_id)
)

select
    cast(source_id as varchar) as source_id,
    cast(source_file as varchar) as source_file,
    cast(source_line as bigint) as source_line,
    cast(request_id as varchar) as register_request_id,
    cast(received_at as timestamptz) as received_at,
    cast(acknowledged_at as timestamptz) as acknowledged_at,
    cast(first_response_at as timestamptz) as first_response_at,
    cast(resolved_at as timestamptz) as resolved_at,
    cast(channel as varchar) as channel,
    cast(channel_value as varchar) as channel_value,
    cast(service_code as varchar) as service_code,
    cast(service_value as varchar) as service_value,
    cast(category as varchar) as category,
    coalesce(cast(is_complaint as boolean), false) as is_complaint,
    cast(status as varchar) as status,
    cast(requester_key as varchar) as requester_key,
    cast(day as date) as landed_day
from latest_batch
