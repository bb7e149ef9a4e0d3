{#- One row per GLPI ticket (request) acknowledged or resolved as of the night: Vigie's delays
    beside GLPI's own takeintoaccount_delay_stat and solve_delay_stat, and why they differ.

    GLPI computes both in working seconds of the entity's calendar when it has one, in wall-clock
    seconds otherwise; solve_delay_stat leaves out waiting_duration (its pending counter). Vigie's
    delays here are wall-clock seconds (receipt to acknowledgement; receipt to resolved_at, which
    has the pending time of the status history taken out). So they are comparable only where
    GLPI counted wall-clock time ("the calendars agree"), which the data shows: GLPI's
    acknowledgement delay equals the wall-clock one, or its solve delay equals
    solvedate - date - waiting_duration.
    difference_explanation:
    * agree: same number of seconds;
    * pending_from_status_history: the resolution delays differ by exactly GLPI's
      waiting_duration minus the pending time Vigie read from the status history (e.g. a
      waiting period GLPI's counter missed, or one before the ticket was reopened);
    * glpi_working_calendar: GLPI counted working time only; not comparable second by second
      (Vigie's business-time delays are the engine's, per commitment);
    * unexplained: anything else (a date edited after the fact...), to be looked at. -#}
with tickets as (
    select * from {{ ref('int_tickets_responded') }}
    where acknowledged_at is not null or resolved_at is not null
),

delays as (
    select
        request_id,
        request_ref,
        source_id,
        ticket_id,
        service_code,
        channel,
        received_at,
        acknowledged_at,
        solved_at,
        resolved_at,
        cast(epoch(acknowledged_at) - epoch(received_at) as bigint) as vigie_acknowledgement_seconds,
        case when acknowledged_at is not null then glpi_takeintoaccount_delay_seconds end
            as glpi_acknowledgement_seconds,
        cast(epoch(resolved_at) - epoch(received_at) as bigint) as vigie_resolution_seconds,
        case when solved_at is not null then glpi_solve_delay_seconds end as glpi_resolution_seconds,
        resolution_pending_seconds,
        resolution_pending_source,
        waiting_duration_seconds,
        cast(epoch(solved_at) - epoch(received_at) as bigint) - coalesce(waiting_duration_seconds, 0)
            as glpi_wall_clock_resolution_seconds
    from tickets
),

judged as (
    select
        *,
        case
            when glpi_acknowledgement_seconds = vigie_acknowledgement_seconds
                or glpi_resolution_seconds = glpi_wall_clock_resolution_seconds then 'wall_clock'
            when coalesce(glpi_acknowledgement_seconds, 0) > 0
                or coalesce(glpi_resolution_seconds, 0) > 0 then 'working_calendar'
            else 'unknown'
        end as glpi_counting
    from delays
)

select
    request_id,
    request_ref,
    source_id,
    ticket_id,
    service_code,
    channel,
    received_at,
    acknowledged_at,
    solved_at,
    resolved_at,
    vigie_acknowledgement_seconds,
    glpi_acknowledgement_seconds,
    vigie_acknowledgement_seconds - glpi_acknowledgement_seconds as acknowledgement_difference_seconds,
    vigie_resolution_seconds,
    glpi_resolution_seconds,
    vigie_resolution_seconds - glpi_resolution_seconds as resolution_difference_seconds,
    resolution_pending_seconds,
    resolution_pending_source,
    waiting_duration_seconds,
    glpi_counting,
    glpi_counting = 'wall_clock' as calendars_agree,
    case
        when glpi_counting = 'working_calendar' then 'glpi_working_calendar'
        when glpi_counting = 'unknown' then 'unexplained'
        when coalesce(vigie_acknowledgement_seconds = glpi_acknowledgement_seconds, true)
            and coalesce(vigie_resolution_seconds = glpi_resolution_seconds, true) then 'agree'
        when coalesce(vigie_acknowledgement_seconds = glpi_acknowledgement_seconds, true)
            and vigie_resolution_seconds - glpi_resolution_seconds
                = coalesce(waiting_duration_seconds, 0) - resolution_pending_seconds
            then 'pending_from_status_history'
        else 'unexplained'
    end as difference_explanation,
    {{ as_of() }} as evaluated_as_of
from judged
