-- Every phone call of the night, whatever its source: one row per call, read by the phone
-- detail mart (phone_indicators) and by int_requests_unioned (the one place where the two call
-- models are stacked), from the queue_log model (int_phone_calls_assembled) and
-- from the CDR-only model (int_phone_calls_from_cdr). The two never hold the same service: a
-- service mapped by a queue_log source gets no CDR request (DECISIONLOG.md Part 3, §3b), so
-- stacking them double-counts nothing. Outcomes keep each model's meaning: the CDR-only model
-- only knows answered, abandoned and out_of_hours.
-- A view, not a table (issue 16): it only stacks two tables, and writing its rows again cost
-- more than its readers (int_requests_unioned, the phone marts) spend scanning the two tables
-- (DECISIONLOG.md Part 3, §6).
{{ config(materialized='view') }}
with queue_log_calls as (
    select
        request_id, request_ref, 'queue_log' as call_source, source_system, source_id, channel,
        service_code, received_at, first_response_at, acknowledged_at, resolved_at, ended_at,
        requester_key, wait_seconds, call_outcome, is_excluded, exclusion_reason, reminder_count
    from {{ ref('int_phone_calls_assembled') }}
),

cdr_calls as (
    select
        request_id, request_ref, 'cdr' as call_source, source_system, source_id, channel,
        service_code, received_at, first_response_at, acknowledged_at, resolved_at, ended_at,
        requester_key, wait_seconds, call_outcome, is_excluded, exclusion_reason, reminder_count
    from {{ ref('int_phone_calls_from_cdr') }}
),

all_calls as (
    select * from queue_log_calls
    union all
    select * from cdr_calls
)

select
    cast(request_id as varchar) as request_id,
    cast(request_ref as varchar) as request_ref,
    cast(call_source as varchar) as call_source,
    cast(source_system as varchar) as source_system,
    cast(source_id as varchar) as source_id,
    cast(channel as varchar) as channel,
    cast(service_code as varchar) as service_code,
    cast(received_at as timestamptz) as received_at,
    cast(first_response_at as timestamptz) as first_response_at,
    cast(acknowledged_at as timestamptz) as acknowledged_at,
    cast(resolved_at as timestamptz) as resolved_at,
    cast(ended_at as timestamptz) as ended_at,
    cast(requester_key as varchar) as requester_key,
    cast(wait_seconds as double) as wait_seconds,
    cast(call_outcome as varchar) as call_outcome,
    cast(is_excluded as boolean) as is_excluded,
    cast(exclusion_reason as varchar) as exclusion_reason,
    cast(reminder_count as integer) as reminder_count
from all_calls
