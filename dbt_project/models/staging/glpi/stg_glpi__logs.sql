-- History rows of GLPI items (glpi_logs), one row per (source_id, log_id).
-- Renaming and typing only; latest batch day wins per (source_id, id).
with landed as (
    select * from {{ landing_scan('glpi_logs') }}
),

typed as (
    select
        cast(source_id as varchar) as source_id,
        cast(id as bigint) as log_id,
        cast(itemtype as varchar) as itemtype,
        cast(items_id as bigint) as item_id,
        cast(id_search_option as bigint) as search_option_id,
        cast(old_value as varchar) as old_value,
        cast(new_value as varchar) as new_value,
        cast(date_mod as timestamptz) as changed_at,
        cast(day as date) as landed_day
    from landed
),

latest_version as (
    select *
    from typed
    qualify row_number() over (partition by source_id, log_id order by landed_day desc) = 1
)

select * from latest_version
