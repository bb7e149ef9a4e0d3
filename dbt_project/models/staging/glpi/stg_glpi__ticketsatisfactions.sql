-- Satisfaction surveys of GLPI tickets (glpi_ticketsatisfactions), one row per (source_id, satisfaction_id).
-- Renaming and typing only; latest batch day wins per (source_id, id).
-- Incremental (issue 16; macros/night_increment.sql; DECISIONLOG.md, Part 3, §1b): a night
-- re-reads only the records (satisfaction_id) with a version in a batch it has not read yet; a replay,
-- a re-landed or purged batch or a change of code re-reads all.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ night_increment_begin([{'table': 'glpi_ticketsatisfactions', 'keys': ['source_id', 'cast(id as bigint)']}], ['source_id', 'satisfaction_id']) }}",
    post_hook="{{ night_increment_end([{'table': 'glpi_ticketsatisfactions'}]) }}",
) }}
with landed as (
    select * from {{ landing_scan('glpi_ticketsatisfactions') }} as landed
    where {{ night_increment_filter(
        ['source_id', 'satisfaction_id'], none, ['landed.source_id', 'cast(landed.id as bigint)']
    ) }}
),

typed as (
    select
        cast(source_id as varchar) as source_id,
        cast(id as bigint) as satisfaction_id,
        cast(tickets_id as bigint) as ticket_id,
        cast("type" as integer) as survey_type,
        cast(date_begin as timestamptz) as survey_started_at,
        cast(date_answered as timestamptz) as answered_at,
        cast(satisfaction as integer) as satisfaction_score,
        cast(day as date) as landed_day
    from landed
),

latest_version as (
    select *
    from typed
    qualify row_number() over (partition by source_id, satisfaction_id order by landed_day desc) = 1
)

select * from latest_version
