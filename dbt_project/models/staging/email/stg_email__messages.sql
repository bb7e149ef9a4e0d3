-- One row per email message per mailbox folder (INBOX or Sent copy), every landed batch up to
-- the night's day. Renaming and typing, the receipt skew, and de-duplication on the message:
-- (source_id, mailbox, folder_role, message_key) is kept once, from the latest batch (then the
-- earliest receipt, then the position). Keyed on the message, not on its position, because the
-- same message can land twice under two positions: an IMAP folder re-read after its
-- UIDVALIDITY changed (new UIDs), a late arrival landed in a later night and again by a rerun of
-- its own night, a Maildir file renamed by a client between two nights, or the same message
-- delivered twice to one mailbox. A request must not be counted twice for any of these.
with landed as (
    select * from {{ landing_scan('email_messages') }}
),

typed as (
    select
        cast(source_id as varchar) as source_id,
        cast(mailbox as varchar) as mailbox,
        cast(service_code as varchar) as landed_service_code,
        cast(folder_role as varchar) as folder_role,
        cast(source_position as varchar) as source_position,
        cast(message_key as varchar) as message_key,
        cast(in_reply_to_key as varchar) as in_reply_to_key,
        cast(references_keys as varchar[]) as references_keys,
        cast(from_key as varchar) as from_key,
        cast(to_keys as varchar[]) as to_keys,
        cast(from_is_internal as boolean) as from_is_internal,
        cast(received_at as timestamptz) as received_at,
        cast(date_header_at as timestamptz) as date_header_at,
        -- data-quality signal: how far the sender's Date header is from the server's receipt
        -- time (positive = Date earlier than receipt, e.g. a slow relay; negative = the
        -- sender's clock is ahead, or a Date in the future)
        epoch(cast(received_at as timestamptz)) - epoch(cast(date_header_at as timestamptz))
            as receipt_skew_seconds,
        cast(subject_key as varchar) as subject_key,
        cast(is_auto_submitted as boolean) as is_auto_submitted,
        cast(auto_reason as varchar) as auto_reason,
        cast(glpi_ticket_id as bigint) as glpi_ticket_id,
        cast(day as date) as landed_day
    from landed
),

deduplicated as (
    select *
    from typed
    qualify row_number() over (
        partition by source_id, mailbox, folder_role, coalesce(message_key, source_position)
        order by landed_day desc, received_at asc, source_position asc
    ) = 1
)

select * from deduplicated
