{#- Rows landed per source and night's day, from each source type's main table (the table
    whose volume follows the activity: queue_log events, CDR legs, email messages, GLPI
    tickets). Read through landing_scan, so only batches known on the night count and a rerun
    of an old night sees what that night saw. A day with a batch of zero rows, or no batch at
    all, has no row here: int_source_day_completeness fills the gaps from its day spine.
    Incremental (issue 16; macros/night_increment.sql; DECISIONLOG.md, Part 3, "Incremental
    models"): a (source, day) row depends only on the batches of that source and day, so a night
    recounts the (source, day) pairs of the files it has not read yet (its own batches, a late
    batch); a replay of an older night, a re-landed or purged batch, or a change of code
    recounts everything. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ night_increment_begin(
        [{'table': 'queue_log_events', 'keys': ['source_id', 'day']},
         {'table': 'cdr_legs', 'keys': ['source_id', 'day']},
         {'table': 'email_messages', 'keys': ['source_id', 'day']},
         {'table': 'glpi_tickets', 'keys': ['source_id', 'day']}],
        ['source_id', 'local_date']) }}",
    post_hook="{{ night_increment_end(
        [{'table': 'queue_log_events'}, {'table': 'cdr_legs'}, {'table': 'email_messages'},
         {'table': 'glpi_tickets'}]) }}",
) }}
with landed as (
    select source_id, 'asterisk_queue_log' as source_type, day from {{ landing_scan('queue_log_events') }}
    union all
    select source_id, 'asterisk_cdr_csv' as source_type, day from {{ landing_scan('cdr_legs') }}
    union all
    select source_id, 'maildir' as source_type, day from {{ landing_scan('email_messages') }}
    union all
    select source_id, 'glpi_sql' as source_type, day from {{ landing_scan('glpi_tickets') }}
),

increment as (
    select * from landed
    where {{ night_increment_filter(['source_id', 'local_date'], none, ['landed.source_id', 'landed.day']) }}
)

select
    source_id,
    source_type,
    cast(day as date) as local_date,
    count(*) as row_count
from increment
group by all
