-- One row per GLPI ticket: the version landed by the latest batch (day <= run_day). A ticket is
-- re-landed every time its date_mod falls in a batch window, so the latest batch holds its
-- newest known state. Renaming and typing only.
-- Incremental (issue 16; macros/night_increment.sql; DECISIONLOG.md, Part 3, §1b): a night
-- re-reads only the records (ticket_id) with a version in a batch it has not read yet; a replay,
-- a re-landed or purged batch or a change of code re-reads all.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ night_increment_begin([{'table': 'glpi_tickets', 'keys': ['source_id', 'cast(id as bigint)']}], ['source_id', 'ticket_id']) }}",
    post_hook="{{ night_increment_end([{'table': 'glpi_tickets'}]) }}",
) }}
with landed as (
    select * from {{ landing_scan('glpi_tickets') }} as landed
    where {{ night_increment_filter(
        ['source_id', 'ticket_id'], none, ['landed.source_id', 'cast(landed.id as bigint)']
    ) }}
),

typed as (
    select
        cast(source_id as varchar) as source_id,
        cast(id as bigint) as ticket_id,
        cast(entities_id as bigint) as entity_id,
        cast("date" as timestamptz) as opened_at,
        cast(date_creation as timestamptz) as created_at,
        cast(date_mod as timestamptz) as modified_at,
        cast(solvedate as timestamptz) as solved_at,
        cast(closedate as timestamptz) as closed_at,
        cast(takeintoaccountdate as timestamptz) as taken_into_account_at,
        cast(status as integer) as status,
        cast(requesttypes_id as bigint) as request_type_id,
        cast(itilcategories_id as bigint) as category_id,
        cast("type" as integer) as ticket_type,
        cast(waiting_duration as bigint) as waiting_duration_seconds,
        cast(takeintoaccount_delay_stat as bigint) as takeintoaccount_delay_seconds,
        cast(solve_delay_stat as bigint) as solve_delay_seconds,
        coalesce(cast(is_deleted as integer), 0) <> 0 as is_deleted,
        cast(day as date) as landed_day
    from landed
),

latest_version as (
    select *
    from typed
    qualify row_number() over (partition by source_id, ticket_id order by landed_day desc) = 1
)

select * from latest_version
