-- One row per call (source_id, callid) that arrived in a queue mapped to a service
-- (config.phone_queues), with its outcome, as known as of the night (events before as_of only).
--
-- Rules (DECISIONLOG.md):
-- * the call belongs to the service of the FIRST mapped queue it entered; an overflow to another
--   queue stays this one request, and so does a transfer (same callid): no new request;
-- * received_at = first arrival; answered = a CONNECT after it, in any queue;
--   wait_seconds = CONNECT - first arrival, across queues;
-- * out_of_hours is judged at the first arrival, whatever happens next;
-- * an unanswered call is decided by its last closing event; if a queue entry is still open
--   after it (or there is none), the call is an orphan: offered, not answered, counted apart;
--   the rule closes it orphan_close_seconds (per source, default 3600) after its last queue
--   entry: ended_at and exit_wait_seconds are set once that instant is before as_of, null
--   before (a call still waiting at midnight has no end yet);
-- * a caller exit (ABANDON, EXITWITHKEY) after less than the first queue's short_abandon_seconds
--   of total wait is a short abandon; service-side exits are never short.
--
-- Incremental (issue 16; macros/night_increment.sql; DECISIONLOG.md, Part 3, "Incremental
-- models"): a call is a function of the queue_log events of its (source_id, callid), of
-- config.phone_queues and of the opening intervals containing its first arrival. A night
-- rebuilds the calls with an event in a batch it has not read yet or an event at or after the
-- last build's as_of minus the longest orphan_close_seconds (the orphan rule closes a call that
-- long after its last entry, so a call can change with as_of alone within that lookback). A
-- replay of an older night, a re-landed or purged batch, a change of code or of
-- config.phone_queues, or a change of the opening intervals that start before the last build's
-- as_of rebuilds the whole table.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ night_increment_begin(
        [{'table': 'queue_log_events', 'instants': ['event_at']}],
        ['source_id', 'callid'],
        [source('config', 'phone_queues'),
         {'relation': ref('int_service_opening_intervals'), 'before': 'interval_start_at'}],
        'to_seconds((select coalesce(max(coalesce(orphan_close_seconds, 3600)), 0) from '
            ~ source('config', 'phone_queues') ~ '))') }}",
    post_hook="{{ night_increment_end([{'table': 'queue_log_events'}]) }}",
) }}
{%- set arrival_events = ['ENTERQUEUE', 'FULL', 'JOINEMPTY', 'CLOSED'] %}
{%- set closing_events = [
    'ABANDON', 'EXITWITHKEY', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'LEAVEEMPTY', 'FULL', 'JOINEMPTY', 'CLOSED'
] %}
{%- set caller_events = [
    'ENTERQUEUE', 'CONNECT', 'ABANDON', 'EXITWITHKEY', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'LEAVEEMPTY', 'FULL',
    'JOINEMPTY', 'CLOSED', 'COMPLETECALLER', 'COMPLETEAGENT', 'TRANSFER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER'
] %}

with night as (
    select
        {{ as_of() }} as as_of
),

queue_services as (
    select
        source_id,
        queue_name,
        service_code,
        short_abandon_seconds,
        coalesce(orphan_close_seconds, 3600) as orphan_close_seconds
    from {{ source('config', 'phone_queues') }}
),

call_events as (
    select
        events.source_id,
        events.callid,
        events.queue_name,
        events.event,
        events.event_at,
        events.caller_key,
        events.data1,
        events.data3,
        events.data4,
        row_number() over (
            partition by events.source_id, events.callid
            order by events.event_at, events.source_file, events.source_line, events.event
        ) as event_seq
    from {{ ref('stg_asterisk__queue_log_events') }} as events
    cross join night
    where events.event_at < night.as_of
      and events.callid is not null
      and events.callid not in ('NONE', 'REALTIME', 'MANAGER', 'CLI')
      and events.event in ('{{ caller_events | join("', '") }}')  -- noqa: LT05
      and {{ night_increment_filter(['source_id', 'callid'], 'events') }}
),

first_arrivals as (
    select
        call_events.source_id,
        call_events.callid,
        call_events.queue_name as first_queue_name,
        call_events.event as first_arrival_event,
        call_events.event_at as received_at,
        call_events.event_seq as arrival_seq,
        queue_services.service_code,
        queue_services.short_abandon_seconds,
        queue_services.orphan_close_seconds
    from call_events
    inner join queue_services
        on call_events.source_id = queue_services.source_id
        and call_events.queue_name = queue_services.queue_name
    where call_events.event in ('{{ arrival_events | join("', '") }}')  -- noqa: LT05
    qualify row_number() over (
        partition by call_events.source_id, call_events.callid order by call_events.event_seq
    ) = 1
),

events_after_arrival as (
    select
        call_events.*,
        first_arrivals.received_at
    from call_events
    inner join first_arrivals
        on call_events.source_id = first_arrivals.source_id
        and call_events.callid = first_arrivals.callid
        and call_events.event_seq >= first_arrivals.arrival_seq
),

call_summaries as (
    select
        source_id,
        callid,
        min(event_at) filter (where event = 'CONNECT') as connected_at,
        count(distinct queue_name) filter (where event in ('{{ arrival_events | join("', '") }}')) as queues_entered,  -- noqa: LT05
        min(event_at) filter (
            where event in ('COMPLETECALLER', 'COMPLETEAGENT', 'TRANSFER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER')
        ) as conversation_ended_at,
        -- the caller's key, from the first arrival that carries one
        arg_min(caller_key, event_seq) filter (where caller_key is not null) as requester_key
    from events_after_arrival
    group by source_id, callid
),

last_closings as (
    -- the last event that opens or closes a queue stay; an ENTERQUEUE here means still waiting
    select
        source_id,
        callid,
        event as last_event,
        event_at as closed_at,
        event_seq as closing_seq,
        case
            when event in ('ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY') then data3
            when event = 'EXITWITHKEY' then data4
        end as waittime_field
    from events_after_arrival
    where event in ('ENTERQUEUE', '{{ closing_events | join("', '") }}')  -- noqa: LT05
    qualify row_number() over (partition by source_id, callid order by event_seq desc) = 1
),

closing_queue_entries as (
    -- when the call entered the queue it left from (for an empty waittime and overflow waits)
    select
        last_closings.source_id,
        last_closings.callid,
        max(events_after_arrival.event_at) as last_entered_at
    from last_closings
    inner join events_after_arrival
        on last_closings.source_id = events_after_arrival.source_id
        and last_closings.callid = events_after_arrival.callid
        and events_after_arrival.event = 'ENTERQUEUE'
        and events_after_arrival.event_seq < last_closings.closing_seq
    group by last_closings.source_id, last_closings.callid
),

orphan_closings as (
    -- an orphan (last queue event an ENTERQUEUE) is closed by rule after its last entry
    select
        last_closings.source_id,
        last_closings.callid,
        last_closings.closed_at + to_seconds(first_arrivals.orphan_close_seconds) as rule_closed_at
    from last_closings
    inner join first_arrivals
        on last_closings.source_id = first_arrivals.source_id
        and last_closings.callid = first_arrivals.callid
    cross join night
    where last_closings.last_event = 'ENTERQUEUE'
      and last_closings.closed_at + to_seconds(first_arrivals.orphan_close_seconds) <= night.as_of
),

open_arrivals as (
    -- arrivals inside one of the service's opening intervals (the one rule, shared with the
    -- CDR-only model: macro calls_arrived_while_open)
    {{ calls_arrived_while_open('first_arrivals', ['source_id', 'callid']) }}
),

calls_measured as (
    select
        first_arrivals.source_id,
        first_arrivals.callid,
        first_arrivals.service_code,
        first_arrivals.first_queue_name,
        first_arrivals.first_arrival_event,
        first_arrivals.received_at,
        first_arrivals.short_abandon_seconds,
        call_summaries.queues_entered,
        call_summaries.connected_at,
        call_summaries.conversation_ended_at,
        call_summaries.requester_key,
        last_closings.last_event,
        last_closings.closed_at,
        open_arrivals.callid is not null as arrived_while_open,
        orphan_closings.rule_closed_at as orphan_closed_at,
        epoch(call_summaries.connected_at - first_arrivals.received_at) as answered_wait_seconds,
        -- total wait of a caller who left: time before the last queue + that queue's waittime
        -- (event time - entry time when the waittime field is empty)
        case
            when last_closings.last_event = 'ENTERQUEUE'
                then epoch(orphan_closings.rule_closed_at - first_arrivals.received_at)
            when closing_queue_entries.last_entered_at is null
                then epoch(last_closings.closed_at - first_arrivals.received_at)
            else epoch(closing_queue_entries.last_entered_at - first_arrivals.received_at)
                + coalesce(
                    try_cast(nullif(trim(last_closings.waittime_field), '') as double),
                    epoch(last_closings.closed_at - closing_queue_entries.last_entered_at)
                )
        end as exit_wait_seconds
    from first_arrivals
    inner join call_summaries
        on first_arrivals.source_id = call_summaries.source_id
        and first_arrivals.callid = call_summaries.callid
    inner join last_closings
        on first_arrivals.source_id = last_closings.source_id
        and first_arrivals.callid = last_closings.callid
    left join closing_queue_entries
        on first_arrivals.source_id = closing_queue_entries.source_id
        and first_arrivals.callid = closing_queue_entries.callid
    left join open_arrivals
        on first_arrivals.source_id = open_arrivals.source_id
        and first_arrivals.callid = open_arrivals.callid
    left join orphan_closings
        on first_arrivals.source_id = orphan_closings.source_id
        and first_arrivals.callid = orphan_closings.callid
),

calls_classified as (
    select
        *,
        case
            when not arrived_while_open or first_arrival_event = 'CLOSED' then 'out_of_hours'
            when connected_at is not null then 'answered'
            when last_event = 'ENTERQUEUE' then 'orphan'
            when last_event in ('ABANDON', 'EXITWITHKEY')
                and exit_wait_seconds < short_abandon_seconds then 'short_abandon'
            when last_event = 'ABANDON' then 'abandoned'
            when last_event = 'EXITWITHKEY' then 'exit_key'
            when last_event = 'EXITWITHTIMEOUT' then 'timeout'
            when last_event in ('EXITEMPTY', 'LEAVEEMPTY', 'JOINEMPTY', 'FULL') then 'exit_empty'
        end as call_outcome
    from calls_measured
)

select
    'tel:' || source_id || ':' || callid as request_id,
    'TEL-' || left(sha256('tel:' || source_id || ':' || callid), 8) as request_ref,
    'asterisk_queue_log' as source_system,
    source_id,
    callid,
    'phone' as channel,
    service_code,
    first_queue_name,
    cast(queues_entered as integer) as queues_entered,
    received_at,
    connected_at as first_response_at,
    cast(null as timestamptz) as acknowledged_at,
    cast(null as timestamptz) as resolved_at,
    case
        when connected_at is not null then conversation_ended_at
        when last_event <> 'ENTERQUEUE' then closed_at
        else orphan_closed_at
    end as ended_at,
    requester_key,
    cast(answered_wait_seconds as double) as wait_seconds,
    cast(exit_wait_seconds as double) as exit_wait_seconds,
    arrived_while_open,
    call_outcome,
    call_outcome in ('short_abandon', 'out_of_hours') as is_excluded,
    case when call_outcome in ('short_abandon', 'out_of_hours') then call_outcome end as exclusion_reason,
    0 as reminder_count
from calls_classified
