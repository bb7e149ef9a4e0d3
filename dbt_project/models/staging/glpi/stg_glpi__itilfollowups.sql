-- Follow-ups of GLPI items (glpi_itilfollowups), one row per (source_id, followup_id).
-- Renaming and typing only; latest batch day wins per (source_id, id).
with landed as (
    select * from {{ landing_scan('glpi_itilfollowups') }}
),

typed as (
    select
        cast(source_id as varchar) as source_id,
        cast(id as bigint) as followup_id,
        cast(itemtype as varchar) as itemtype,
        cast(items_id as bigint) as item_id,
        cast("date" as timestamptz) as followup_at,
        cast(users_key as varchar) as user_key,
        coalesce(cast(is_private as integer), 0) <> 0 as is_private,
        cast(requesttypes_id as bigint) as request_type_id,
        cast(day as date) as landed_day
    from landed
),

latest_version as (
    select *
    from typed
    qualify row_number() over (partition by source_id, followup_id order by landed_day desc) = 1
)

select * from latest_version
