-- Follow-ups of GLPI items (glpi_itilfollowups), one row per (source_id, followup_id).
-- Renaming and typing only; latest batch day wins per (source_id, id).
-- Incremental (issue 16; macros/night_increment.sql; DECISIONLOG.md, Part 3, §1b): a night
-- re-reads only the records (followup_id) with a version in a batch it has not read yet; a replay,
-- a re-landed or purged batch or a change of code re-reads all.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ night_increment_begin([{'table': 'glpi_itilfollowups', 'keys': ['source_id', 'cast(id as bigint)']}], ['source_id', 'followup_id']) }}",
    post_hook="{{ night_increment_end([{'table': 'glpi_itilfollowups'}]) }}",
) }}
with landed as (
    select * from {{ landing_scan('glpi_itilfollowups') }} as landed
    where {{ night_increment_filter(
        ['source_id', 'followup_id'], none, ['landed.source_id', 'cast(landed.id as bigint)']
    ) }}
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
