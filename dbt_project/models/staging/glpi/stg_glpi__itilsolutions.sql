-- Solutions of GLPI items (glpi_itilsolutions), one row per (source_id, solution_id).
-- Renaming and typing only; latest batch day wins per (source_id, id).
with landed as (
    select * from {{ landing_scan('glpi_itilsolutions') }}
),

typed as (
    select
        cast(source_id as varchar) as source_id,
        cast(id as bigint) as solution_id,
        cast(itemtype as varchar) as itemtype,
        cast(items_id as bigint) as item_id,
        cast(date_creation as timestamptz) as solution_at,
        cast(users_key as varchar) as user_key,
        cast(day as date) as landed_day
    from landed
),

latest_version as (
    select *
    from typed
    qualify row_number() over (partition by source_id, solution_id order by landed_day desc) = 1
)

select * from latest_version
