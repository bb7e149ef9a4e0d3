-- Tasks of GLPI tickets (glpi_tickettasks), one row per (source_id, task_id).
-- Renaming and typing only; latest batch day wins per (source_id, id).
with landed as (
    select * from {{ landing_scan('glpi_tickettasks') }}
),

typed as (
    select
        cast(source_id as varchar) as source_id,
        cast(id as bigint) as task_id,
        cast(tickets_id as bigint) as ticket_id,
        cast("date" as timestamptz) as task_at,
        cast(users_key as varchar) as user_key,
        coalesce(cast(is_private as integer), 0) <> 0 as is_private,
        cast(day as date) as landed_day
    from landed
),

latest_version as (
    select *
    from typed
    qualify row_number() over (partition by source_id, task_id order by landed_day desc) = 1
)

select * from latest_version
