{#-
    sync_landing(): copy into the warehouse the landed Parquet files it does not hold yet.

    Run by dbt's on-run-start hook (dbt_project.yml), before any model. For each landing table
    `<t>` (one typed, empty file per table under `<landing_root>/_empty/day=1900-01-01/`), the
    table `landed.<t>` holds the rows of every landed batch file `<landing_root>/*/day=*/<t>.parquet`
    (every source, every night's day: the glob landing_scan read before), with the batch's `day`
    (hive partition) and the file it came from (`landed_file`). `landed._files` lists the files
    copied, with their size and modification time (microseconds).

    WHY: reading every landed file of every night again, once per model and once per data test
    that uses a staging view, made a night cost in proportion to the whole history (issue 16:
    about 0.25 s per test at a year of history). Now a night reads only the files that are new or
    changed since the last build: the night's batches, a rerun's replaced batch. A file that
    changed (a rerun swaps the `day=D` directory: new files, new modification times) or
    disappeared (retention purge, a batch moved aside) has its rows removed; a new or changed
    file's rows are copied. So `landed.<t>` always holds exactly what the glob finds, and
    landing_scan keeps its as-of filter (`day <= run_day()`): replaying an old night reads the
    same rows as before.

    The listing (landed_batch_listing): run by vigie/transform.py, the hook reads the one
    vigie/landing_listing.py writes just before dbt starts (var landing_listing), which lists
    again only the batch directories that are new or changed (inode, modification time: a
    landing swaps the whole `day=D` directory); without that var, read_blob over the glob. Both
    give the same rows (path, size, modification time to the microsecond). WHY: read_blob opens
    every landed file: the hook took 4.5–4.9 s a night at three years of demo landing (16,454 files).

    A crash between two steps is harmless: a file is listed in `landed._files` only after its
    rows are in, and the rows of a file about to be (re)loaded are deleted first. A new `_empty`
    file (its schema changed: vigie/transform.py rewrites it only then) drops and reloads its
    table, so `landed.<t>` always has the current landing columns and types.
-#}
{#- Every landed batch file of every table (connectors/landing_layout.py, DBT_BATCH_GLOB). -#}
{% macro landed_batch_files() -%}
{{ var("landing_root") | replace("'", "''") }}/*/day=*/*.parquet
{%- endmacro %}

{#- The files of landed_batch_files() with their size and modification time: the listing
    vigie/landing_listing.py wrote for this run (var landing_listing: it re-lists only the batch
    directories that are new or changed), else read_blob over the glob (dbt run by hand, tests). -#}
{% macro landed_batch_listing() -%}
{%- set listing = var('landing_listing', '') -%}
{%- if listing -%}
(select landing_table, filename, size, last_modified from read_parquet('{{ listing | replace("'", "''") }}'))
{%- else -%}
(select regexp_extract(filename, '([^/]+)[.]parquet$', 1) as landing_table, filename, size, last_modified
from read_blob('{{ landed_batch_files() }}'))
{%- endif -%}
{%- endmacro %}

{% macro sync_landing() %}
{%- if execute -%}
{%- set root = var('landing_root') | replace("'", "''") -%}
{%- set empty_dir = root ~ '/_empty/day=1900-01-01' -%}
{%- set scan_options = "hive_partitioning = true, union_by_name = true, hive_types = {'day': date}, filename = true" -%}
{#- _stale: copied files that are gone or changed since (an _empty file among them: a new schema). -#}
{%- do run_query(
    "create schema if not exists landed; "
    ~ "create table if not exists landed._files ("
    ~ "landing_table varchar, filename varchar, size bigint, last_modified timestamptz); "
    ~ "create or replace table landed._listing as "
    ~ "select landing_table, filename, size, last_modified "
    ~ "from " ~ landed_batch_listing() ~ "; "
    ~ "create or replace table landed._stale as select f.landing_table, f.filename from landed._files as f "
    ~ "where not exists (select 1 from landed._listing as n "
    ~ "where n.filename = f.filename and n.size = f.size and n.last_modified = f.last_modified)") -%}
{%- set plan = run_query(
    "with tables as ("
    ~ "  select landing_table from landed._listing"
    ~ "  where filename = '" ~ empty_dir ~ "/' || landing_table || '.parquet'), "
    ~ "existing as (select table_name from information_schema.tables where table_schema = 'landed') "
    ~ "select t.landing_table, "
    ~ "  t.landing_table not in (select table_name from existing) "
    ~ "  or '" ~ empty_dir ~ "/' || t.landing_table || '.parquet' in (select filename from landed._stale) as recreate "
    ~ "from tables as t order by 1") -%}
{%- for row in plan.rows -%}
{%- set t = row[0] -%}
{%- if row[1] -%}
{%- do run_query(
    "delete from landed._files where landing_table = '" ~ t ~ "'; "
    ~ "create or replace table landed." ~ t ~ " as select * exclude (filename), filename as landed_file "
    ~ "from read_parquet('" ~ empty_dir ~ "/" ~ t ~ ".parquet', " ~ scan_options ~ ") where false") -%}
{%- endif -%}
{%- endfor -%}
{%- do run_query(
    "delete from landed._files where filename in (select filename from landed._stale); "
    ~ "create or replace table landed._to_load as select n.* from landed._listing as n "
    ~ "where not exists (select 1 from landed._files as f where f.filename = n.filename)") -%}
{%- set changed = run_query(
    "select distinct landing_table "
    ~ "from (select landing_table from landed._stale union all select landing_table from landed._to_load) "
    ~ "where landing_table in (select table_name from information_schema.tables where table_schema = 'landed') "
    ~ "order by 1") -%}
{%- for t in changed.columns[0].values() -%}
{%- set empty_file = empty_dir ~ '/' ~ t ~ '.parquet' -%}
{%- set columns = [] -%}
{%- for c in run_query("select column_name from information_schema.columns where table_schema = 'landed' and table_name = '" ~ t ~ "' and column_name != 'landed_file' order by ordinal_position").columns[0].values() -%}
{%- do columns.append('"' ~ c ~ '"') -%}
{%- endfor -%}
{%- set quoted = [] -%}
{%- for f in run_query("select filename from landed._to_load where landing_table = '" ~ t ~ "' order by 1").columns[0].values() -%}{%- if f != empty_file -%}{%- do quoted.append("'" ~ (f | replace("'", "''")) ~ "'") -%}{%- endif -%}{%- endfor -%}
{%- set ns = namespace(sql="delete from landed." ~ t ~ " where landed_file in (select filename from landed._stale union all select filename from landed._to_load); ") -%}
{%- if quoted -%}
{#- The _empty file in the list: every current column exists even if no batch file has it. -#}
{%- set ns.sql = ns.sql ~ "insert into landed." ~ t ~ " by name select " ~ columns | join(', ')
    ~ ", filename as landed_file from read_parquet(['" ~ empty_file ~ "', " ~ quoted | join(', ') ~ "], "
    ~ scan_options ~ ")" -%}
{%- endif -%}
{%- do run_query(ns.sql) -%}
{%- endfor -%}
{%- do run_query(
    "insert into landed._files select landing_table, filename, size, last_modified from landed._to_load "
    ~ "where landing_table in (select table_name from information_schema.tables where table_schema = 'landed'); "
    ~ "drop table landed._stale; drop table landed._to_load; drop table landed._listing") -%}
{%- endif -%}
{% endmacro %}
