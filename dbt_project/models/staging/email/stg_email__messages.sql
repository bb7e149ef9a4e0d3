-- One row per landed email message (INBOX or Sent copy), every landed batch up to the night's
-- day. Renaming and typing only, plus de-duplication: the same Maildir file (source_id, mailbox,
-- folder_role, source_position) landed by two batches is kept once, from the latest batch.
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
        cast(subject_key as varchar) as subject_key,
        cast(is_auto_submitted as boolean) as is_auto_submitted,
        cast(auto_reason as varchar) as auto_reason,
        cast(day as date) as landed_day
    from landed
),

deduplicated as (
    select *
    from typed
    qualify row_number() over (
        partition by source_id, mailbox, folder_role, source_position
        order by landed_day desc
    ) = 1
)

select * from deduplicated
