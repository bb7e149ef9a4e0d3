-- One row per Asterisk queue_log event, every landed batch up to the night's day.
-- Renaming and typing only, plus de-duplication: a rerun replaces a batch, but two batches can
-- still hold the same line (log rotation re-read, a file copied twice, an overlapping batch);
-- the same event never counts twice.
-- Incremental (issue 16; macros/night_increment.sql; DECISIONLOG.md, Part 3, §1b): the same event is
-- the same (source_id, event_at, ...), so a night re-reads only the (source_id, event_at) of the
-- events in a batch it has not read yet; a replay, a re-landed or purged batch or a change of
-- code re-reads all.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ night_increment_begin([{'table': 'queue_log_events', 'keys': ['source_id', 'cast(event_at as timestamptz)']}], ['source_id', 'event_at']) }}",
    post_hook="{{ night_increment_end([{'table': 'queue_log_events'}]) }}",
) }}
with landed as (
    select * from {{ landing_scan('queue_log_events') }} as landed
    where {{ night_increment_filter(
        ['source_id', 'event_at'], none, ['landed.source_id', 'cast(landed.event_at as timestamptz)']
    ) }}
),

typed as (
    select
        cast(source_id as varchar) as source_id,
        cast(source_file as varchar) as source_file,
        cast(source_line as bigint) as source_line,
        cast(event_at as timestamptz) as event_at,
        cast(callid as varchar) as callid,
        cast(queue_name as varchar) as queue_name,
        cast(agent_key as varchar) as agent_key,
        cast(event as varchar) as event,
        cast(data1 as varchar) as data1,
        cast(data2 as varchar) as data2,
        cast(data3 as varchar) as data3,
        cast(data4 as varchar) as data4,
        cast(data5 as varchar) as data5,
        cast(caller_key as varchar) as caller_key,
        cast(day as date) as landed_day
    from landed
),

deduplicated as (
    select *
    from typed
    qualify row_number() over (
        partition by
            source_id, event_at, callid, event, queue_name, agent_key,
            data1, data2, data3, data4, data5
        order by landed_day desc, source_file asc, source_line asc
    ) = 1
)

select * from deduplicated
