-- One row per Asterisk CDR leg (Master.csv or SQL cdr table), every landed batch up to the
-- night's day. Renaming and typing only, plus de-duplication of legs landed twice.
-- Incremental (issue 16; macros/night_increment.sql; DECISIONLOG.md, Part 3, §1b): the same leg
-- has the same source_id, uniqueid and linkedid, so the same call_group_id (linkedid, else
-- uniqueid; null when a layout has neither: one more key); a night re-reads only the call groups
-- with a leg in a batch it has not read yet; a replay, a re-landed or purged batch or a change of
-- code re-reads all.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ night_increment_begin(
        [{'table': 'cdr_legs', 'keys': ['source_id', 'cast(coalesce(linkedid, uniqueid) as varchar)']}],
        ['source_id', 'call_group_id'], nullable_keys=['call_group_id']) }}",
    post_hook="{{ night_increment_end([{'table': 'cdr_legs'}]) }}",
) }}
with landed as (
    select * from {{ landing_scan('cdr_legs') }} as landed
    where {{ night_increment_filter(
        ['source_id', 'call_group_id'], none,
        ['landed.source_id', 'cast(coalesce(landed.linkedid, landed.uniqueid) as varchar)'],
        ['call_group_id']
    ) }}
),

typed as (
    select
        cast(source_id as varchar) as source_id,
        cast(source_file as varchar) as source_file,
        cast(source_line as bigint) as source_line,
        cast(accountcode as varchar) as accountcode,
        cast(src_key as varchar) as src_key,
        cast(dst_key as varchar) as dst_key,
        cast(dcontext as varchar) as dcontext,
        cast(channel as varchar) as channel,
        cast(dstchannel as varchar) as dstchannel,
        cast(lastapp as varchar) as lastapp,
        cast(start_at as timestamptz) as start_at,
        cast(answer_at as timestamptz) as answer_at,
        cast(end_at as timestamptz) as end_at,
        cast(duration as bigint) as duration_seconds,
        cast(billsec as bigint) as billsec_seconds,
        cast(disposition as varchar) as disposition,
        cast(amaflags as varchar) as amaflags,
        cast(uniqueid as varchar) as uniqueid,
        cast(linkedid as varchar) as linkedid,
        cast(sequence as bigint) as cdr_sequence,
        cast(coalesce(linkedid, uniqueid) as varchar) as call_group_id,
        cast(day as date) as landed_day
    from landed
),

deduplicated as (
    select *
    from typed
    qualify row_number() over (
        partition by
            source_id, uniqueid, linkedid, channel, dstchannel, dcontext, lastapp,
            start_at, answer_at, end_at, disposition, src_key, dst_key
        order by landed_day desc, source_file asc, source_line asc
    ) = 1
)

select * from deduplicated
