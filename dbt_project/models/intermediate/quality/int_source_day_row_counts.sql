{#- Rows landed per source and night's day, from each source type's main table (the table
    whose volume follows the activity: queue_log events, CDR legs, email messages, GLPI
    tickets). Read through landing_scan, so only batches known on the night count and a rerun
    of an old night sees what that night saw. A day with a batch of zero rows, or no batch at
    all, has no row here: int_source_day_completeness fills the gaps from its day spine. -#}
with landed as (
    select source_id, 'asterisk_queue_log' as source_type, day from {{ landing_scan('queue_log_events') }}
    union all
    select source_id, 'asterisk_cdr_csv' as source_type, day from {{ landing_scan('cdr_legs') }}
    union all
    select source_id, 'maildir' as source_type, day from {{ landing_scan('email_messages') }}
    union all
    select source_id, 'glpi_sql' as source_type, day from {{ landing_scan('glpi_tickets') }}
)

select
    source_id,
    source_type,
    cast(day as date) as local_date,
    count(*) as row_count
from landed
group by all
