-- One row per visit of a call to a queue, with the status Wazo's statistics give it
-- (wazo-stat's stat_call_on_queue), for Wazo's queue statistics (marts.phone_queue_statistics,
-- marts.phone_queue_qos_bands) and phone_indicators.wazo_answered_rate. DECISIONLOG.md,
-- Part 4, "Wazo's answered rate".
--
-- A visit starts at an arrival in a queue: ENTERQUEUE, or one of Wazo's arrivals that never
-- enter (FULL, JOINEMPTY, CLOSED, DIVERT_CA_RATIO, DIVERT_HOLDTIME: one event each). An
-- ENTERQUEUE visit ends at the first of CONNECT, ABANDON, EXITWITHTIMEOUT, EXITEMPTY /
-- LEAVEEMPTY (Wazo writes both for one exit), EXITWITHKEY in the same queue. wazo_status:
--   CONNECT -> answered (waittime = the CONNECT holdtime), ABANDON -> abandoned,
--   EXITWITHTIMEOUT -> timeout (waittime = the event's waittime field), EXITEMPTY/LEAVEEMPTY ->
--   leaveempty (waittime = exit - entry, as wazo-stat computes it), FULL -> full, JOINEMPTY ->
--   joinempty, CLOSED -> closed, DIVERT_CA_RATIO -> divert_ca_ratio, DIVERT_HOLDTIME ->
--   divert_waittime (waittime 0);
--   EXITWITHKEY and a visit still open (no closing event yet) have no Wazo status (wazo-stat
--   writes no row for them): null, in none of Wazo's counts.
-- A visit is placed by its arrival instant (stat_call_on_queue.time). Unlike the request
-- models, a call that overflows through two queues is two visits, one per queue: Wazo's
-- statistics are per queue.
-- Incremental (issue 16; macros/night_increment.sql; DECISIONLOG.md, Part 3, "Incremental
-- models"): a visit is a function of the queue_log events of its (source_id, callid,
-- queue_name) only, so a night rebuilds the keys with an event in a batch it has not read yet or
-- an event at or after the last build's as_of; a replay of an older night, a re-landed or
-- purged batch, or a change of code or of config.phone_queues rebuilds the whole table.
{%- set arrivals = ['ENTERQUEUE', 'FULL', 'JOINEMPTY', 'CLOSED', 'DIVERT_CA_RATIO', 'DIVERT_HOLDTIME'] %}
{%- set closings = ['CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'LEAVEEMPTY', 'EXITWITHKEY'] %}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ night_increment_begin(
        [{'table': 'queue_log_events', 'instants': ['event_at']}],
        ['source_id', 'callid', 'queue_name'],
        [source('config', 'phone_queues')]) }}",
    post_hook="{{ night_increment_end([{'table': 'queue_log_events'}]) }}",
) }}

with night as (
    select {{ as_of() }} as as_of
),

events as (
    select
        events.source_id,
        events.callid,
        events.queue_name,
        events.event,
        events.event_at,
        events.data1,
        events.data3,
        events.source_file,
        events.source_line,
        sum(case when events.event in ('{{ arrivals | join("', '") }}') then 1 else 0 end) over (  -- noqa: LT05
            partition by events.source_id, events.callid, events.queue_name
            order by events.event_at, events.source_file, events.source_line
            rows between unbounded preceding and current row
        ) as visit_number
    from {{ ref('stg_asterisk__queue_log_events') }} as events
    cross join night
    where events.event_at < night.as_of
      and events.event in ('{{ (arrivals + closings) | join("', '") }}')  -- noqa: LT05
      and events.callid is not null
      and coalesce(events.queue_name, 'NONE') <> 'NONE'
      and {{ night_increment_filter(['source_id', 'callid', 'queue_name'], 'events') }}
),

arrivals as (
    select *
    from events
    where event in ('{{ arrivals | join("', '") }}')
),

closings as (
    select *
    from events
    where event in ('{{ closings | join("', '") }}')
      and visit_number > 0
    qualify row_number() over (
        partition by source_id, callid, queue_name, visit_number
        order by event_at, source_file, source_line
    ) = 1
),

visits as (
    select
        arrivals.source_id,
        arrivals.callid,
        arrivals.queue_name,
        arrivals.visit_number,
        arrivals.event as arrival_event,
        arrivals.event_at as entered_at,
        closings.event as closing_event,
        closings.event_at as closed_at,
        case
            when arrivals.event = 'FULL' then 'full'
            when arrivals.event = 'JOINEMPTY' then 'joinempty'
            when arrivals.event = 'CLOSED' then 'closed'
            when arrivals.event = 'DIVERT_CA_RATIO' then 'divert_ca_ratio'
            when arrivals.event = 'DIVERT_HOLDTIME' then 'divert_waittime'
            when closings.event = 'CONNECT' then 'answered'
            when closings.event = 'ABANDON' then 'abandoned'
            when closings.event = 'EXITWITHTIMEOUT' then 'timeout'
            when closings.event in ('EXITEMPTY', 'LEAVEEMPTY') then 'leaveempty'
        end as wazo_status,
        case
            when arrivals.event <> 'ENTERQUEUE' then 0
            when closings.event = 'CONNECT'
                then coalesce(
                    try_cast(closings.data1 as bigint),
                    cast(epoch(closings.event_at - arrivals.event_at) as bigint)
                )
            when closings.event in ('ABANDON', 'EXITWITHTIMEOUT')
                then coalesce(
                    try_cast(closings.data3 as bigint),
                    cast(epoch(closings.event_at - arrivals.event_at) as bigint)
                )
            when closings.event in ('EXITEMPTY', 'LEAVEEMPTY')
                then cast(epoch(closings.event_at - arrivals.event_at) as bigint)
        end as waittime_seconds
    from arrivals
    left join closings
        on arrivals.event = 'ENTERQUEUE'
        and arrivals.source_id = closings.source_id
        and arrivals.callid = closings.callid
        and arrivals.queue_name = closings.queue_name
        and arrivals.visit_number = closings.visit_number
)

select
    visits.source_id,
    visits.callid,
    visits.queue_name,
    queues.service_code,
    cast(visits.visit_number as integer) as visit_number,
    visits.arrival_event,
    visits.closing_event,
    visits.entered_at,
    visits.closed_at,
    visits.wazo_status,
    case when visits.wazo_status is not null then visits.waittime_seconds end as waittime_seconds
from visits
left join {{ source('config', 'phone_queues') }} as queues
    on visits.source_id = queues.source_id
    and visits.queue_name = queues.queue_name
