{#-
    landing_scan(table_name): every landed batch of one landing table, as one relation.

    Reads `landed.<table_name>`, the warehouse's copy of every landed batch file
    `<landing_root>/*/day=*/<table_name>.parquet` (every source, every night's day: the layout of
    connectors/landing_layout.py, DBT_BATCH_GLOB), kept in step with the landing by the
    on-run-start hook (macros/sync_landing.sql, issue 16: a night reads only the files that are
    new or changed). Each row carries the `day` (DATE) of the batch that landed it; a batch
    written before a column was added reads with that column null.

    Only batches with day <= run_day() (var 'run_day', else config.settings.run_day) are read. WHY: the nightly transform must answer
    "what did we know as of this night". Re-running night D after nights D+1, D+2... have landed
    would otherwise see their events (a CONNECT that landed later, a GLPI ticket's newer
    version) and change the marts of D after they were published and alerted on.

    connectors/landing_layout.py (ensure_empty_landing_tables) keeps one typed, empty file per
    table at `<landing_root>/_empty/day=1900-01-01/<table>.parquet`: it gives `landed.<table>`
    its columns and types, so a fresh install (or a source type not configured) yields an
    empty, well-typed relation.
-#}
{% macro landing_scan(table_name) -%}
(
    select * exclude (landed_file)
    from landed.{{ table_name }}
    where day <= {{ run_day() }}
)
{%- endmacro %}
