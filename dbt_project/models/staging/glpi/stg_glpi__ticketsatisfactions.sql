-- Satisfaction surveys of GLPI tickets (glpi_ticketsatisfactions), one row per (source_id, satisfaction_id).
-- Renaming and typing only; latest batch day wins per (source_id, id).
with landed as (
    select * from {{ landing_scan('glpi_ticketsatisfactions') }}
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
