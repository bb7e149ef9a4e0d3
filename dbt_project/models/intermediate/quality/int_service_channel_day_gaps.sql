{#- The (service, channel, local date) triples whose data is incomplete, from the incomplete
    source days: what each source feeds.
    - asterisk_queue_log: phone, for the services of its queues (config.phone_queues);
    - maildir: email, for the services of its mailboxes (config.mailboxes);
    - asterisk_cdr_csv: phone, for every service (CDR legs carry no queue);
    - glpi_sql: every channel of its request types (config.ticket_request_types), for every
      service (groups and categories map most tickets, not all).
    Several sources gapping the same day: the notes are joined in source order. -#}
with gaps as (
    select source_id, source_type, local_date, completeness_note
    from {{ ref('int_source_day_completeness') }}
    where not is_complete
),

services as (
    select service_code from {{ source('config', 'services') }}
),

feeds as (
    select g.source_id, g.local_date, q.service_code, 'phone' as channel, g.completeness_note
    from gaps as g
    inner join (select distinct source_id, service_code from {{ source('config', 'phone_queues') }}) as q
        on q.source_id = g.source_id
    where g.source_type = 'asterisk_queue_log'
    union all
    select g.source_id, g.local_date, m.service_code, 'email' as channel, g.completeness_note
    from gaps as g
    inner join (select distinct source_id, service_code from {{ source('config', 'mailboxes') }}) as m
        on m.source_id = g.source_id
    where g.source_type = 'maildir'
    union all
    select g.source_id, g.local_date, s.service_code, 'phone' as channel, g.completeness_note
    from gaps as g
    cross join services as s
    where g.source_type = 'asterisk_cdr_csv'
    union all
    select g.source_id, g.local_date, s.service_code, t.channel, g.completeness_note
    from gaps as g
    inner join (select distinct source_id, channel from {{ source('config', 'ticket_request_types') }}) as t
        on t.source_id = g.source_id
    cross join services as s
    where g.source_type = 'glpi_sql'
)

select
    service_code,
    channel,
    local_date,
    string_agg(distinct completeness_note, '; ' order by completeness_note) as completeness_note
from feeds
group by service_code, channel, local_date
