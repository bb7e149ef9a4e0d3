-- One row per call of a CDR-only site: CDR legs grouped by linkedid (uniqueid when there is
-- none), for services no queue_log source covers. Rules (DECISIONLOG.md, Part 3, phone):
-- * the caller's leg is the call's first leg that is no Local/ channel, ordered by CDR sequence,
--   then start, then file line (a call made of Local/ legs only has no caller: no request);
-- * the call belongs to the service its caller leg's dcontext maps to (config.phone_cdr_contexts);
--   a call whose caller leg's context is unmapped (internal, consultation call) is no request;
-- * received_at = the caller leg's start; answered = a leg whose dstchannel matches the source's
--   agent_channel_pattern, disposition ANSWERED, answered before as_of; first_response_at =
--   the earliest such answer; wait_seconds = that minus received_at. An IVR or voicemail
--   answering (answer set, no agent leg) is not an answer: the call is abandoned;
-- * a transfer adds legs to the same linkedid: still this one request;
-- * out_of_hours is judged at the caller leg's start with the service's opening intervals;
-- * a service covered by a queue_log source (config.phone_queues) keeps queue_log as the one
--   definition of its calls: no CDR request for it.
--
-- Incremental (issue 16; macros/night_increment.sql; DECISIONLOG.md, Part 3, §1b): a call is a
-- function of the CDR legs of its (source_id, call_group_id), of config.phone_cdr_contexts and
-- config.phone_queues, and of the opening intervals containing its caller leg's start. A night
-- rebuilds the calls with a leg in a batch it has not read yet or a leg instant (start, answer,
-- end: each is compared with as_of) at or after the last build's as_of. A replay of an older
-- night, a re-landed or purged batch, a change of code or of those configuration tables, or a
-- change of the opening intervals that start before the last build's as_of rebuilds the table.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ night_increment_begin(
        [{'table': 'cdr_legs', 'keys': ['source_id', 'cast(coalesce(linkedid, uniqueid) as varchar)'],
          'instants': ['start_at', 'answer_at', 'end_at']}],
        ['source_id', 'call_group_id'],
        [source('config', 'phone_cdr_contexts'), source('config', 'phone_queues'),
         {'relation': ref('int_service_opening_intervals'), 'before': 'interval_start_at'}]) }}",
    post_hook="{{ night_increment_end([{'table': 'cdr_legs'}]) }}",
) }}
with night as (
    select
        {{ as_of() }} as as_of
),

cdr_contexts as (
    select source_id, dcontext, service_code, agent_channel_pattern
    from {{ source('config', 'phone_cdr_contexts') }}
    where service_code not in (select service_code from {{ source('config', 'phone_queues') }})
),

legs as (
    select
        legs.*,
        -- the caller's leg: never a Local/ helper channel (a time-delay or follow-me leg
        -- starts in the same second and is often written first); among the others the lowest
        -- CDR sequence, then the earliest start, then the file line
        case
            when coalesce(legs.channel, '') like 'Local/%' then null
            else row_number() over (
                partition by legs.source_id, legs.call_group_id,
                    coalesce(legs.channel, '') like 'Local/%'
                order by legs.cdr_sequence nulls last, legs.start_at, legs.source_file,
                    legs.source_line
            )
        end as leg_seq
    from {{ ref('stg_asterisk__cdr_legs') }} as legs
    cross join night
    where legs.start_at < night.as_of
      and legs.call_group_id is not null
      and {{ night_increment_filter(['source_id', 'call_group_id'], 'legs') }}
),

first_legs as (
    select
        legs.source_id,
        legs.call_group_id,
        legs.start_at as received_at,
        legs.src_key as requester_key,
        cdr_contexts.service_code,
        cdr_contexts.agent_channel_pattern
    from legs
    inner join cdr_contexts
        on legs.source_id = cdr_contexts.source_id
        and legs.dcontext = cdr_contexts.dcontext
    where legs.leg_seq = 1
),

call_summaries as (
    select
        first_legs.source_id,
        first_legs.call_group_id,
        count(*) as legs_count,
        min(legs.answer_at) filter (
            where legs.answer_at < night.as_of
              and legs.disposition = 'ANSWERED'
              and regexp_matches(coalesce(legs.dstchannel, ''), first_legs.agent_channel_pattern)
        ) as agent_answered_at,
        max(legs.end_at) filter (where legs.end_at < night.as_of) as last_end_at
    from first_legs
    inner join legs
        on first_legs.source_id = legs.source_id
        and first_legs.call_group_id = legs.call_group_id
    cross join night
    group by first_legs.source_id, first_legs.call_group_id
),

open_arrivals as (
    -- caller legs inside one of the service's opening intervals (the one rule, shared with the
    -- queue_log model: macro calls_arrived_while_open)
    {{ calls_arrived_while_open('first_legs', ['source_id', 'call_group_id']) }}
),

calls_classified as (
    select
        first_legs.*,
        call_summaries.legs_count,
        call_summaries.agent_answered_at,
        call_summaries.last_end_at,
        open_arrivals.call_group_id is not null as arrived_while_open,
        case
            when open_arrivals.call_group_id is null then 'out_of_hours'
            when call_summaries.agent_answered_at is not null then 'answered'
            else 'abandoned'
        end as call_outcome
    from first_legs
    inner join call_summaries
        on first_legs.source_id = call_summaries.source_id
        and first_legs.call_group_id = call_summaries.call_group_id
    left join open_arrivals
        on first_legs.source_id = open_arrivals.source_id
        and first_legs.call_group_id = open_arrivals.call_group_id
)

select
    'tel:' || source_id || ':' || call_group_id as request_id,
    'TEL-' || left(sha256('tel:' || source_id || ':' || call_group_id), 8) as request_ref,
    'asterisk_cdr' as source_system,
    source_id,
    call_group_id,
    'phone' as channel,
    service_code,
    cast(legs_count as integer) as legs_count,
    received_at,
    agent_answered_at as first_response_at,
    cast(null as timestamptz) as acknowledged_at,
    cast(null as timestamptz) as resolved_at,
    last_end_at as ended_at,
    requester_key,
    cast(epoch(agent_answered_at - received_at) as double) as wait_seconds,
    arrived_while_open,
    call_outcome,
    call_outcome = 'out_of_hours' as is_excluded,
    case when call_outcome = 'out_of_hours' then call_outcome end as exclusion_reason,
    0 as reminder_count
from calls_classified
