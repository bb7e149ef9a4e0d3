{#- The cells a suspect or failed source day leaves incomplete: one row per (service, channel,
    commitment, local date), commitment_id null for the cell's volumes (requests_received,
    requests_excluded count every request of the channel). Only the cells the source feeds
    (DECISIONLOG Part 6 "Scope"):
    - asterisk_queue_log (queue_log_events): phone of the services of its queues;
    - asterisk_cdr_csv (cdr_legs): phone of the services of its dcontexts
      (phone_cdr_contexts), of every service when it maps none;
    - maildir (email_messages): email of the services of its mailboxes;
    - glpi_sql (tickets): every channel of its request types, for every service, EXCEPT the
      phone commitments that judge calls only (unit seconds or no target: the engine's
      `is_call` rule): a quiet GLPI day never holds back a pickup rate.
    A commitment is fed on a date when a version in force that date covers the service.
    Several sources gapping the same cell and day: one row each (service_indicators joins the
    notes; the alerts name each source day in the data team's commands). -#}
with gaps as (
    select source_id, source_type, local_date, completeness_note
    from {{ ref('int_source_day_completeness') }}
    where not is_complete
),

services as (
    select service_code from {{ source('config', 'services') }}
),

cdr_services as (
    select distinct source_id, service_code from {{ source('config', 'phone_cdr_contexts') }}
),

fed as (
    -- (source day, service, channel) pairs, and whether the source lands calls
    select g.*, q.service_code, 'phone' as channel, true as lands_calls
    from gaps as g
    inner join (select distinct source_id, service_code from {{ source('config', 'phone_queues') }}) as q
        on q.source_id = g.source_id
    where g.source_type = 'asterisk_queue_log'
    union all
    select g.*, s.service_code, 'phone' as channel, true as lands_calls
    from gaps as g
    cross join services as s
    where g.source_type = 'asterisk_cdr_csv'
        and (
            s.service_code in (select c.service_code from cdr_services as c where c.source_id = g.source_id)
            or not exists (select 1 from cdr_services as c where c.source_id = g.source_id)
        )
    union all
    select g.*, m.service_code, 'email' as channel, false as lands_calls
    from gaps as g
    inner join (select distinct source_id, service_code from {{ source('config', 'mailboxes') }}) as m
        on m.source_id = g.source_id
    where g.source_type = 'maildir'
    union all
    select g.*, s.service_code, t.channel, false as lands_calls
    from gaps as g
    inner join (select distinct source_id, channel from {{ source('config', 'ticket_request_types') }}) as t
        on t.source_id = g.source_id
    cross join services as s
    where g.source_type = 'glpi_sql'
),

cells as (
    select
        f.source_id, f.service_code, f.channel, cast(null as varchar) as commitment_id, f.local_date,
        f.completeness_note
    from fed as f
    union all
    select f.source_id, f.service_code, f.channel, v.commitment_id, f.local_date, f.completeness_note
    from fed as f
    inner join {{ ref('int_commitment_versions') }} as v
        on v.service_code = f.service_code
        and v.channel = f.channel
        and f.local_date >= v.valid_from
        and (v.valid_to is null or f.local_date < v.valid_to)
    where f.lands_calls
        or not (v.channel = 'phone' and coalesce(v.target_unit, 'seconds') = 'seconds')
)

select
    service_code,
    channel,
    commitment_id,
    local_date,
    source_id,
    min(completeness_note) as completeness_note
from cells
group by service_code, channel, commitment_id, local_date, source_id
