-- Every email message copy known as of the night, with the thread it belongs to.
--
-- Threads are built on messages (message_key), not on copies: the same message seen in a
-- service's Sent folder and in another mailbox's INBOX is one node. Each message links to one
-- earlier message (its parent), by the first rule that finds one:
--   1. in_reply_to: the message its In-Reply-To names;
--   2. references: the latest (nearest) message of its References that we know;
--   3. subject: the latest message with the same normalised subject and a common correspondent
--      (the citizen: sender of an inbound message, recipients of a message the service sent)
--      received at most var('email_thread_window_days') days before it (default 30: a
--      citizen who writes again on the same subject a month later starts a new thread).
-- A parent is always earlier in the (received_at, message_key) order, so links never loop;
-- the thread is the root reached by following parents.
with recursive night as (
    select {{ as_of() }} as as_of
),

message_copies as (
    select
        messages.source_id,
        messages.mailbox,
        coalesce(mailboxes.service_code, messages.landed_service_code) as service_code,
        messages.folder_role,
        messages.source_position,
        messages.message_key,
        messages.in_reply_to_key,
        messages.references_keys,
        messages.from_key,
        messages.to_keys,
        coalesce(messages.from_is_internal, false) as from_is_internal,
        messages.received_at,
        messages.subject_key,
        coalesce(messages.is_auto_submitted, false) as is_auto_submitted,
        messages.auto_reason,
        messages.glpi_ticket_id
    from {{ ref('stg_email__messages') }} as messages
    left join {{ source('config', 'mailboxes') }} as mailboxes
        on messages.source_id = mailboxes.source_id
        and messages.mailbox = mailboxes.mailbox
    cross join night
    where messages.received_at < night.as_of
      and messages.message_key is not null
),

messages_once as (
    -- one node per message: its earliest copy
    select
        message_key,
        received_at,
        in_reply_to_key,
        references_keys,
        subject_key,
        case
            when folder_role = 'sent' or from_is_internal then to_keys
            else [from_key]
        end as correspondent_keys
    from message_copies
    qualify row_number() over (
        partition by message_key
        order by received_at, source_id, mailbox, folder_role, source_position
    ) = 1
),

messages_ordered as (
    select
        *,
        row_number() over (order by received_at, message_key) as message_rank
    from messages_once
),

parents_by_in_reply_to as (
    select
        child.message_key,
        parent.message_key as parent_key
    from messages_ordered as child
    inner join messages_ordered as parent
        on child.in_reply_to_key = parent.message_key
        and parent.message_rank < child.message_rank
),

references_listed as (
    select
        message_key,
        message_rank,
        unnest(references_keys) as reference_key,
        unnest(range(1, len(references_keys) + 1)) as reference_position
    from messages_ordered
    where len(references_keys) > 0
),

parents_by_references as (
    select
        child.message_key,
        parent.message_key as parent_key
    from references_listed as child
    inner join messages_ordered as parent
        on child.reference_key = parent.message_key
        and parent.message_rank < child.message_rank
    qualify row_number() over (
        partition by child.message_key order by child.reference_position desc
    ) = 1
),

message_correspondents as (
    -- one row per message and correspondent, so the subject fallback is an equi-join on
    -- (subject, correspondent) rather than a comparison of every pair sharing a subject
    select
        message_key,
        message_rank,
        received_at,
        subject_key,
        unnest(correspondent_keys) as correspondent_key
    from messages_ordered
    where subject_key is not null
),

parents_by_subject as (
    select
        child.message_key,
        parent.message_key as parent_key
    from message_correspondents as child
    inner join message_correspondents as parent
        on child.subject_key = parent.subject_key
        and child.correspondent_key = parent.correspondent_key
        and parent.message_rank < child.message_rank
        and parent.received_at >= child.received_at
            - to_days(cast({{ var('email_thread_window_days', 30) }} as integer))
    qualify row_number() over (
        partition by child.message_key order by parent.message_rank desc
    ) = 1
),

messages_linked as (
    select
        messages_ordered.message_key,
        coalesce(
            parents_by_in_reply_to.parent_key,
            parents_by_references.parent_key,
            parents_by_subject.parent_key
        ) as parent_key,
        case
            when parents_by_in_reply_to.parent_key is not null then 'in_reply_to'
            when parents_by_references.parent_key is not null then 'references'
            when parents_by_subject.parent_key is not null then 'subject'
        end as link_rule
    from messages_ordered
    left join parents_by_in_reply_to
        on messages_ordered.message_key = parents_by_in_reply_to.message_key
    left join parents_by_references
        on messages_ordered.message_key = parents_by_references.message_key
    left join parents_by_subject
        on messages_ordered.message_key = parents_by_subject.message_key
),

thread_walk as (
    select
        message_key,
        message_key as thread_key
    from messages_linked
    where parent_key is null

    union all

    select
        messages_linked.message_key,
        thread_walk.thread_key
    from messages_linked
    inner join thread_walk on messages_linked.parent_key = thread_walk.message_key
)

select
    message_copies.source_id,
    message_copies.mailbox,
    message_copies.service_code,
    message_copies.folder_role,
    message_copies.source_position,
    message_copies.message_key,
    thread_walk.thread_key,
    messages_linked.parent_key,
    messages_linked.link_rule,
    message_copies.from_key,
    message_copies.to_keys,
    message_copies.from_is_internal,
    message_copies.received_at,
    message_copies.subject_key,
    message_copies.is_auto_submitted,
    message_copies.auto_reason,
    message_copies.glpi_ticket_id
from message_copies
inner join messages_linked on message_copies.message_key = messages_linked.message_key
inner join thread_walk on message_copies.message_key = thread_walk.message_key
