-- Group actors of GLPI tickets (glpi_groups_tickets), one row per (source_id, assignment_id).
-- Renaming and typing only; latest batch day wins per (source_id, id).
with landed as (
    select * from {{ landing_scan('glpi_groups_tickets') }}
),

typed as (
    select
        cast(source_id as varchar) as source_id,
        cast(id as bigint) as assignment_id,
        cast(tickets_id as bigint) as ticket_id,
        cast(groups_id as bigint) as group_id,
        cast("type" as integer) as actor_type,
        cast(day as date) as landed_day
    from landed
),

latest_version as (
    select *
    from typed
    qualify row_number() over (partition by source_id, assignment_id order by landed_day desc) = 1
)

select * from latest_version
