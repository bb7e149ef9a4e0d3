{#- Each request judged against each commitment that applies to it (BI contract). All rules
    live in int_commitment_evaluations; this mart only selects and types the contract, and
    (issue 11) carries what a digest needs to say a request's target and to make the request
    findable by the people who handle it: the commitment version's target, the source, the
    mailbox, the GLPI ticket number, the register row id and local (wall-clock) times. None of
    these is a citizen's identity: mailboxes are the service's, ticket numbers and register ids
    are the tool's own references. -#}
with evaluations as (
    select * from {{ ref('int_commitment_evaluations') }}
),

requests as (
    select request_id, source_id from {{ ref('int_requests_unioned') }}
),

emails as (
    select request_id, mailbox from {{ ref('int_email_requests_identified') }}
),

tickets as (
    select request_id, ticket_id from {{ ref('int_tickets_responded') }}
),

registers as (
    select request_id, register_request_id from {{ ref('int_register_requests') }}
)

select
    e.request_id,
    e.request_ref,
    e.commitment_id,
    e.service_code,
    e.channel,
    e.received_at,
    e.deadline_at,
    e.responded_at,
    e.elapsed_value,
    e.elapsed_unit,
    e.status,
    e.exclusion_reason,
    e.evaluated_as_of,
    e.counted_on,
    cast(e.target_value as double) as target_value,
    cast(e.target_unit as varchar) as target_unit,
    cast(e.version_valid_from as date) as commitment_version,
    cast(r.source_id as varchar) as source_id,
    cast(m.mailbox as varchar) as mailbox,
    cast(t.ticket_id as bigint) as ticket_number,
    cast(g.register_request_id as varchar) as register_id,
    cast(e.received_at at time zone {{ vigie_tz() }} as timestamp) as received_local_at,
    cast(e.deadline_at at time zone {{ vigie_tz() }} as timestamp) as deadline_local_at,
    cast(e.responded_at at time zone {{ vigie_tz() }} as timestamp) as responded_local_at
from evaluations as e
left join requests as r on r.request_id = e.request_id
left join emails as m on m.request_id = e.request_id
left join tickets as t on t.request_id = e.request_id
left join registers as g on g.request_id = e.request_id
