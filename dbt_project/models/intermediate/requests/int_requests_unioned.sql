-- Every channel's requests in the one request shape the commitment engine reads
-- (columns in int_requests_unioned.yml): one row per request, excluded ones included with their reason.
-- is_complaint: the kind a commitment may be scoped to (commitments[].request_kind). Only
-- tickets (GLPI complaint_categories) and registers (complaint_values) classify requests; calls
-- and emails carry no category, so they are never complaints (false, not unknown).
-- A view, not a table (issue 16): it only stacks and types four relations; its readers (the
-- engine, the requests mart, commitment_evaluations...) scan them for the columns they need,
-- which costs less than writing every request again each night (DECISIONLOG.md Part 3, §6).
{{ config(materialized='view') }}
with phone_requests as (
    -- queue_log calls and CDR-only calls, stacked once in int_phone_calls_unioned
    select
        request_id, request_ref, source_system, source_id, channel, service_code,
        received_at, first_response_at, acknowledged_at, resolved_at, requester_key,
        is_excluded, exclusion_reason, wait_seconds, call_outcome, reminder_count,
        false as is_complaint
    from {{ ref('int_phone_calls_unioned') }}
),

email_requests as (
    select
        request_id, request_ref, source_system, source_id, channel, service_code,
        received_at, first_response_at, acknowledged_at, resolved_at, requester_key,
        is_excluded, exclusion_reason, wait_seconds, call_outcome, reminder_count,
        false as is_complaint
    from {{ ref('int_email_requests_identified') }}
),

ticket_requests as (
    select
        request_id, request_ref, source_system, source_id, channel, service_code,
        received_at, first_response_at, acknowledged_at, resolved_at, requester_key,
        is_excluded, exclusion_reason, wait_seconds, call_outcome, reminder_count,
        is_complaint
    from {{ ref('int_tickets_responded') }}
),

register_requests as (
    select
        request_id, request_ref, source_system, source_id, channel, service_code,
        received_at, first_response_at, acknowledged_at, resolved_at, requester_key,
        is_excluded, exclusion_reason, wait_seconds, call_outcome, reminder_count,
        is_complaint
    from {{ ref('int_register_requests') }}
),

all_requests as (
    select * from phone_requests
    union all
    select * from email_requests
    union all
    select * from ticket_requests
    union all
    select * from register_requests
)

select
    cast(request_id as varchar) as request_id,
    cast(request_ref as varchar) as request_ref,
    cast(source_system as varchar) as source_system,
    cast(source_id as varchar) as source_id,
    cast(channel as varchar) as channel,
    cast(service_code as varchar) as service_code,
    cast(received_at as timestamptz) as received_at,
    cast(first_response_at as timestamptz) as first_response_at,
    cast(acknowledged_at as timestamptz) as acknowledged_at,
    cast(resolved_at as timestamptz) as resolved_at,
    cast(requester_key as varchar) as requester_key,
    cast(is_excluded as boolean) as is_excluded,
    cast(exclusion_reason as varchar) as exclusion_reason,
    cast(wait_seconds as double) as wait_seconds,
    cast(call_outcome as varchar) as call_outcome,
    cast(reminder_count as integer) as reminder_count,
    coalesce(cast(is_complaint as boolean), false) as is_complaint
from all_requests
