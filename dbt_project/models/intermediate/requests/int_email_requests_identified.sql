-- Email requests, one row per request, plus one excluded row per inbound message that is not a
-- citizen's (automatic reply, bounce, spam, list, internal sender): exclusions are shown, not dropped.
--
-- In a thread, the service's human replies (Sent-folder messages that are not auto-submitted,
-- from any configured mailbox) cut the citizen's messages into segments: every citizen message
-- received before the same next reply belongs to one request. The first one opens the request,
-- the others are reminders. A citizen message after a reply opens a new request.
-- first_response_at = that next reply; acknowledged_at = the first automatic acknowledgement
-- (auto-submitted Sent message) after the request, or the first response if earlier.
--
-- A citizen's reply to a GLPI notification (glpi_ticket_id: "[GLPI #0000101]" in its subject or
-- a GLPI Message-ID in its headers) continues GLPI ticket 101, as GLPI's mail collector links
-- it, when a GLPI source of the site knows that ticket (not deleted, not closed before the
-- reply arrived): the ticket is the request, the message is excluded as glpi_ticket_reply and
-- takes no part in the email requests (DECISIONLOG.md, Part 3, email).
with threaded_messages as (
    select * from {{ ref('int_email_messages_threaded') }}
),

glpi_tickets as (
    select
        ticket_id,
        closed_at
    from {{ ref('stg_glpi__tickets') }}
    where not is_deleted
),

inbound_messages as (
    -- one per mailbox and message (a message delivered twice to a mailbox counts once)
    select *
    from threaded_messages
    where folder_role = 'inbox'
    qualify row_number() over (
        partition by source_id, mailbox, message_key order by received_at, source_position
    ) = 1
),

glpi_ticket_replies as (
    select distinct
        inbound_messages.source_id,
        inbound_messages.mailbox,
        inbound_messages.message_key
    from inbound_messages
    inner join glpi_tickets
        on inbound_messages.glpi_ticket_id = glpi_tickets.ticket_id
    where not inbound_messages.is_auto_submitted
      and not inbound_messages.from_is_internal
      and (glpi_tickets.closed_at is null or glpi_tickets.closed_at > inbound_messages.received_at)
),

citizen_messages as (
    select *
    from inbound_messages
    where not is_auto_submitted
      and not from_is_internal
      and not exists (
          select 1
          from glpi_ticket_replies
          where glpi_ticket_replies.source_id = inbound_messages.source_id
            and glpi_ticket_replies.mailbox = inbound_messages.mailbox
            and glpi_ticket_replies.message_key = inbound_messages.message_key
      )
),

service_replies as (
    select
        thread_key,
        message_key,
        min(received_at) as replied_at
    from threaded_messages
    where folder_role = 'sent'
      and not is_auto_submitted
    group by thread_key, message_key
),

automatic_acknowledgements as (
    select
        thread_key,
        message_key,
        min(received_at) as acknowledged_at
    from threaded_messages
    where folder_role = 'sent'
      and is_auto_submitted
    group by thread_key, message_key
),

citizen_messages_segmented as (
    select
        citizen_messages.*,
        (
            select min(service_replies.replied_at)
            from service_replies
            where service_replies.thread_key = citizen_messages.thread_key
              and service_replies.replied_at > citizen_messages.received_at
        ) as next_reply_at
    from citizen_messages
),

requests_opened as (
    select
        *,
        count(*) over (
            partition by source_id, mailbox, thread_key, next_reply_at
        ) - 1 as reminder_count
    from citizen_messages_segmented
    qualify row_number() over (
        partition by source_id, mailbox, thread_key, next_reply_at
        order by received_at, message_key
    ) = 1
),

requests_acknowledged as (
    select
        requests_opened.*,
        (
            select min(automatic_acknowledgements.acknowledged_at)
            from automatic_acknowledgements
            where automatic_acknowledgements.thread_key = requests_opened.thread_key
              and automatic_acknowledgements.acknowledged_at > requests_opened.received_at
        ) as first_automatic_ack_at
    from requests_opened
),

citizen_requests as (
    select
        source_id,
        mailbox,
        service_code,
        message_key,
        thread_key,
        from_key,
        received_at,
        next_reply_at as first_response_at,
        least(first_automatic_ack_at, next_reply_at) as acknowledged_at,
        cast(reminder_count as integer) as reminder_count,
        false as is_excluded,
        cast(null as varchar) as exclusion_reason
    from requests_acknowledged
),

not_citizen_messages as (
    select
        source_id,
        mailbox,
        service_code,
        message_key,
        thread_key,
        from_key,
        received_at,
        cast(null as timestamptz) as first_response_at,
        cast(null as timestamptz) as acknowledged_at,
        0 as reminder_count,
        true as is_excluded,
        case
            when auto_reason = 'bounce' then 'bounce'
            when auto_reason = 'spam' then 'spam'
            when auto_reason = 'list' then 'mailing_list'
            when is_auto_submitted then 'auto_reply'
            else 'internal_sender'
        end as exclusion_reason
    from inbound_messages
    where is_auto_submitted
       or from_is_internal
),

ticket_reply_messages as (
    select
        inbound_messages.source_id,
        inbound_messages.mailbox,
        inbound_messages.service_code,
        inbound_messages.message_key,
        inbound_messages.thread_key,
        inbound_messages.from_key,
        inbound_messages.received_at,
        cast(null as timestamptz) as first_response_at,
        cast(null as timestamptz) as acknowledged_at,
        0 as reminder_count,
        true as is_excluded,
        'glpi_ticket_reply' as exclusion_reason
    from inbound_messages
    inner join glpi_ticket_replies
        on inbound_messages.source_id = glpi_ticket_replies.source_id
        and inbound_messages.mailbox = glpi_ticket_replies.mailbox
        and inbound_messages.message_key = glpi_ticket_replies.message_key
),

all_rows as (
    select * from citizen_requests
    union all
    select * from not_citizen_messages
    union all
    select * from ticket_reply_messages
)

select
    'mail:' || source_id || ':' || mailbox || ':' || message_key as request_id,
    'MEL-' || left(message_key, 8) as request_ref,
    'maildir' as source_system,
    source_id,
    mailbox,
    'email' as channel,
    service_code,
    message_key,
    thread_key,
    received_at,
    first_response_at,
    acknowledged_at,
    cast(null as timestamptz) as resolved_at,
    from_key as requester_key,
    is_excluded,
    exclusion_reason,
    cast(null as double) as wait_seconds,
    cast(null as varchar) as call_outcome,
    cast(reminder_count as integer) as reminder_count
from all_rows
