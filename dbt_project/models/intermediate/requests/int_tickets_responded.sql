-- GLPI tickets (not deleted, opened before as_of), one row per ticket, with their channel,
-- service, first response, acknowledgement and resolution as known as of the night.
--
-- * channel: config.ticket_request_types by requesttypes_id, else 'other' (flagged);
-- * service: the group assigned (actor type 2) among the group rows landed with the ticket's
--   latest version, latest assignment first (a ticket moved between groups belongs to its new
--   group); else the category mapping; else null, flagged in service_mapping = 'unmapped';
-- * first response: the earliest public follow-up, public task or solution written by a known
--   user who is not one of the ticket's requesters;
-- * acknowledgement: takeintoaccountdate;
-- * resolution: solvedate moved back by the time spent pending (status 4, waiting for the
--   citizen) between opening and solvedate: from the status history (glpi_logs option 12) when
--   the ticket has any, else GLPI's waiting_duration (resolution_pending_source says which).
--   resolved_at is that adjusted instant, so the engine's resolution commitments never count
--   pending time; solved_at keeps GLPI's solvedate.
-- Responses, acknowledgements and resolutions at or after as_of are not known yet (null).
--
-- Incremental (issue 16; macros/night_increment.sql; DECISIONLOG.md, Part 3, "Incremental
-- models"): a ticket's row is a function of the landed rows of its (source_id, ticket_id) in
-- the GLPI tables below and of the ticket configuration tables. A night rebuilds the tickets
-- with a row in a batch it has not read yet (or whose record has a version there: a follow-up
-- moved to another ticket leaves the old one too), or with an instant (opening, acknowledgement,
-- solution, answer, status change) at or after the last build's as_of. A replay of an older
-- night, a re-landed or purged batch, a change of code or of the configuration rebuilds the
-- whole table.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ night_increment_begin(
        [{'table': 'glpi_tickets', 'keys': ['source_id', 'cast(id as bigint)'],
          'instants': ['\"date\"', 'takeintoaccountdate', 'solvedate']},
         {'table': 'glpi_groups_tickets', 'keys': ['source_id', 'cast(tickets_id as bigint)'],
          'record': ['source_id', 'id']},
         {'table': 'glpi_tickets_users', 'keys': ['source_id', 'cast(tickets_id as bigint)'],
          'record': ['source_id', 'id']},
         {'table': 'glpi_itilfollowups', 'keys': ['source_id', 'cast(items_id as bigint)'],
          'instants': ['\"date\"'], 'record': ['source_id', 'id']},
         {'table': 'glpi_tickettasks', 'keys': ['source_id', 'cast(tickets_id as bigint)'],
          'instants': ['\"date\"'], 'record': ['source_id', 'id']},
         {'table': 'glpi_itilsolutions', 'keys': ['source_id', 'cast(items_id as bigint)'],
          'instants': ['date_creation'], 'record': ['source_id', 'id']},
         {'table': 'glpi_logs', 'keys': ['source_id', 'cast(items_id as bigint)'],
          'instants': ['date_mod'], 'record': ['source_id', 'id']}],
        ['source_id', 'ticket_id'],
        [source('config', 'ticket_groups'), source('config', 'ticket_request_types'),
         source('config', 'ticket_categories'), source('config', 'ticket_complaint_categories')]) }}",
    post_hook="{{ night_increment_end(
        [{'table': 'glpi_tickets'}, {'table': 'glpi_groups_tickets'}, {'table': 'glpi_tickets_users'},
         {'table': 'glpi_itilfollowups'}, {'table': 'glpi_tickettasks'}, {'table': 'glpi_itilsolutions'},
         {'table': 'glpi_logs'}]) }}",
) }}
with night as (
    select {{ as_of() }} as as_of
),

tickets as (
    select tickets.*
    from {{ ref('stg_glpi__tickets') }} as tickets
    cross join night
    where not tickets.is_deleted
      and tickets.opened_at < night.as_of
      and {{ night_increment_filter(['source_id', 'ticket_id'], 'tickets') }}
),

assigned_groups_current as (
    -- group rows landed with the ticket's latest version: the connector lands all of a ticket's
    -- group and user rows with it, so a row deleted in GLPI (the ticket moved to another group)
    -- only survives in older batches, and is left out here
    select groups_tickets.*
    from {{ ref('stg_glpi__groups_tickets') }} as groups_tickets
    inner join tickets
        on groups_tickets.source_id = tickets.source_id
        and groups_tickets.ticket_id = tickets.ticket_id
        and groups_tickets.landed_day = tickets.landed_day
),

assigned_group_services as (
    select
        assigned_groups_current.source_id,
        assigned_groups_current.ticket_id,
        assigned_groups_current.group_id,
        ticket_groups.service_code
    from assigned_groups_current
    inner join {{ source('config', 'ticket_groups') }} as ticket_groups
        on assigned_groups_current.source_id = ticket_groups.source_id
        and assigned_groups_current.group_id = ticket_groups.groups_id
    where assigned_groups_current.actor_type = 2
    qualify row_number() over (
        partition by assigned_groups_current.source_id, assigned_groups_current.ticket_id
        order by assigned_groups_current.assignment_id desc
    ) = 1
),

requesters_current as (
    select tickets_users.*
    from {{ ref('stg_glpi__tickets_users') }} as tickets_users
    inner join tickets
        on tickets_users.source_id = tickets.source_id
        and tickets_users.ticket_id = tickets.ticket_id
        and tickets_users.landed_day = tickets.landed_day
    where tickets_users.actor_type = 1
),

ticket_requesters as (
    select
        source_id,
        ticket_id,
        arg_min(user_key, ticket_user_id) as requester_key,
        list(user_key) filter (where user_key is not null) as requester_keys
    from requesters_current
    group by source_id, ticket_id
),

public_answers as (
    select source_id, item_id as ticket_id, followup_at as answered_at, user_key, 'followup' as answer_kind
    from {{ ref('stg_glpi__itilfollowups') }}
    where itemtype = 'Ticket' and not is_private

    union all

    select source_id, ticket_id, task_at as answered_at, user_key, 'task' as answer_kind
    from {{ ref('stg_glpi__tickettasks') }}
    where not is_private

    union all

    select source_id, item_id as ticket_id, solution_at as answered_at, user_key, 'solution' as answer_kind
    from {{ ref('stg_glpi__itilsolutions') }}
    where itemtype = 'Ticket'
),

first_responses as (
    select
        public_answers.source_id,
        public_answers.ticket_id,
        min(public_answers.answered_at) as first_response_at,
        arg_min(public_answers.answer_kind, public_answers.answered_at) as first_response_kind
    from public_answers
    cross join night
    left join ticket_requesters
        on public_answers.source_id = ticket_requesters.source_id
        and public_answers.ticket_id = ticket_requesters.ticket_id
    where public_answers.answered_at < night.as_of
      and {{ night_increment_filter(['source_id', 'ticket_id'], 'public_answers') }}
      and public_answers.user_key is not null
      and not coalesce(list_contains(ticket_requesters.requester_keys, public_answers.user_key), false)
    group by public_answers.source_id, public_answers.ticket_id
),

status_changes as (
    -- status history known as of the night: each change opens a segment that lasts until the
    -- next change (or as_of); ties on the same instant are ordered by log id
    select
        logs.source_id,
        logs.item_id as ticket_id,
        logs.new_value,
        logs.changed_at as segment_start,
        coalesce(
            lead(logs.changed_at) over (
                partition by logs.source_id, logs.item_id order by logs.changed_at, logs.log_id
            ),
            night.as_of
        ) as segment_end
    from {{ ref('stg_glpi__logs') }} as logs
    cross join night
    where logs.itemtype = 'Ticket'
      and logs.search_option_id = 12
      and logs.changed_at < night.as_of
      and {{ night_increment_filter(['source_id', 'ticket_id'], none, ['logs.source_id', 'logs.item_id']) }}
),

pending_from_history as (
    -- seconds in status 4 inside [opening, solvedate), per ticket that has any status history
    select
        status_changes.source_id,
        status_changes.ticket_id,
        sum(
            case
                when status_changes.new_value = '4' and tickets.solved_at is not null then greatest(
                    0,
                    epoch(least(status_changes.segment_end, tickets.solved_at))
                    - epoch(greatest(status_changes.segment_start, tickets.opened_at))
                )
                else 0
            end
        ) as pending_seconds
    from status_changes
    inner join tickets
        on status_changes.source_id = tickets.source_id
        and status_changes.ticket_id = tickets.ticket_id
    group by status_changes.source_id, status_changes.ticket_id
),

resolution_pending as (
    -- the status history when the ticket has one, else GLPI's waiting_duration (seconds pending,
    -- working seconds when its entity has a calendar), capped so resolution >= opening
    select
        tickets.source_id,
        tickets.ticket_id,
        case
            when pending_from_history.ticket_id is not null
                then cast(pending_from_history.pending_seconds as bigint)
            else least(
                greatest(coalesce(tickets.waiting_duration_seconds, 0), 0),
                cast(greatest(epoch(tickets.solved_at) - epoch(tickets.opened_at), 0) as bigint)
            )
        end as pending_seconds,
        case
            when pending_from_history.ticket_id is not null then 'status_history'
            else 'waiting_duration'
        end as pending_source
    from tickets
    left join pending_from_history
        on tickets.source_id = pending_from_history.source_id
        and tickets.ticket_id = pending_from_history.ticket_id
    where tickets.solved_at is not null
),

tickets_mapped as (
    select
        tickets.*,
        request_types.channel as mapped_channel,
        assigned_group_services.group_id as assigned_group_id,
        assigned_group_services.service_code as group_service_code,
        ticket_categories.service_code as category_service_code,
        complaint_categories.itilcategories_id is not null as is_complaint
    from tickets
    left join {{ source('config', 'ticket_request_types') }} as request_types
        on tickets.source_id = request_types.source_id
        and tickets.request_type_id = request_types.requesttypes_id
    left join assigned_group_services
        on tickets.source_id = assigned_group_services.source_id
        and tickets.ticket_id = assigned_group_services.ticket_id
    left join {{ source('config', 'ticket_categories') }} as ticket_categories
        on tickets.source_id = ticket_categories.source_id
        and tickets.category_id = ticket_categories.itilcategories_id
    left join {{ source('config', 'ticket_complaint_categories') }} as complaint_categories
        on tickets.source_id = complaint_categories.source_id
        and tickets.category_id = complaint_categories.itilcategories_id
)

select
    'glpi:' || tickets_mapped.source_id || ':' || tickets_mapped.ticket_id as request_id,
    'GLPI-' || tickets_mapped.ticket_id as request_ref,
    'glpi' as source_system,
    tickets_mapped.source_id,
    tickets_mapped.ticket_id,
    coalesce(tickets_mapped.mapped_channel, 'other') as channel,
    tickets_mapped.mapped_channel is not null as is_channel_mapped,
    coalesce(tickets_mapped.group_service_code, tickets_mapped.category_service_code) as service_code,
    case
        when tickets_mapped.group_service_code is not null then 'group'
        when tickets_mapped.category_service_code is not null then 'category'
        else 'unmapped'
    end as service_mapping,
    tickets_mapped.assigned_group_id,
    tickets_mapped.category_id,
    tickets_mapped.is_complaint,
    tickets_mapped.status,
    tickets_mapped.opened_at as received_at,
    first_responses.first_response_at,
    first_responses.first_response_kind,
    case when tickets_mapped.taken_into_account_at < night.as_of then tickets_mapped.taken_into_account_at end
        as acknowledged_at,
    case
        when tickets_mapped.solved_at < night.as_of
            then tickets_mapped.solved_at - to_seconds(resolution_pending.pending_seconds)
    end as resolved_at,
    case when tickets_mapped.solved_at < night.as_of then tickets_mapped.solved_at end as solved_at,
    case when tickets_mapped.solved_at < night.as_of then resolution_pending.pending_seconds end
        as resolution_pending_seconds,
    case when tickets_mapped.solved_at < night.as_of then resolution_pending.pending_source end
        as resolution_pending_source,
    tickets_mapped.waiting_duration_seconds,
    tickets_mapped.takeintoaccount_delay_seconds as glpi_takeintoaccount_delay_seconds,
    tickets_mapped.solve_delay_seconds as glpi_solve_delay_seconds,
    ticket_requesters.requester_key,
    false as is_excluded,
    cast(null as varchar) as exclusion_reason,
    cast(null as double) as wait_seconds,
    cast(null as varchar) as call_outcome,
    0 as reminder_count
from tickets_mapped
cross join night
left join first_responses
    on tickets_mapped.source_id = first_responses.source_id
    and tickets_mapped.ticket_id = first_responses.ticket_id
left join ticket_requesters
    on tickets_mapped.source_id = ticket_requesters.source_id
    and tickets_mapped.ticket_id = ticket_requesters.ticket_id
left join resolution_pending
    on tickets_mapped.source_id = resolution_pending.source_id
    and tickets_mapped.ticket_id = resolution_pending.ticket_id
