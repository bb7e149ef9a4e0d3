{#-
    landing_scan(table_name): every landed batch of one landing table, as one relation.

    Reads `<landing_root>/*/day=*/<table_name>.parquet` (every source, every night's day: the
    layout of connectors/landing_layout.py, DBT_BATCH_GLOB, which
    tests/connectors/test_landing_layout.py holds this macro to) with hive partitioning, so
    each row carries the `day` of the batch that landed it, and union_by_name, so a batch
    written before a column was added still reads (missing columns come back null).

    Only batches with day <= run_day() (var 'run_day', else config.settings.run_day) are read. WHY: the nightly transform must answer
    "what did we know as of this night". Re-running night D after nights D+1, D+2... have landed
    would otherwise see their events (a CONNECT that landed later, a GLPI ticket's newer
    version) and change the marts of D after they were published and alerted on. Filtering on
    the hive partition also lets DuckDB skip the later files entirely (partition pruning).

    connectors/landing_layout.py (ensure_empty_landing_tables) keeps one typed, empty file
    per table at `<landing_root>/_empty/day=1900-01-01/<table>.parquet`, so the glob always matches at least
    one file and a fresh install (or a source type not configured) yields an empty, well-typed
    relation instead of a "No files found" error.

    `day` is typed DATE explicitly (hive_types) rather than left to auto-detection, so the
    comparison with run_day never becomes a string comparison.
-#}
{% macro landing_scan(table_name) -%}
(
    select *
    from read_parquet(
        '{{ var("landing_root") | replace("'", "''") }}/*/day=*/{{ table_name }}.parquet',
        hive_partitioning = true,
        union_by_name = true,
        hive_types = {'day': date}
    )
    where day <= {{ run_day() }}
)
{%- endmacro %}
