{#-
    Incremental models that stay exact as of the night (issue 16: a night's cost must not grow
    with history). DECISIONLOG.md, Part 3, "Incremental models: which rows a night rebuilds".

    A model using these macros is a function, key by key, of the landed rows of that key: its
    output for a key (a call, a queue visit, a source's day) is computed from the rows of that
    key only (every window, join and de-duplication is partitioned by the key, or by columns
    that include it). Its table keeps every key's rows as of the night it was last built; a
    night rebuilds (deletes, then recomputes) only the keys whose input can have changed since:

      * a key with a row in a landed file the model has not read yet (the file's day is at most
        the night's day and it was not in the landing at the model's last build: the night's new
        batches, a late batch of an earlier day);
      * a key with a row whose instant is at or after the last build's as_of minus the model's
        lookback (an event the last build could not know yet, a rule such as the orphan close
        that moves with as_of).

    Everything else can change a key's rows in ways those two tests cannot see, so it rebuilds
    the whole model, exactly as a table would be built (the "full" plan):

      * no build recorded yet, the table missing, or `dbt build --full-refresh`;
      * the night is older than the last build's night, or its as_of earlier (a replay or a
        backfill of an old night: "nothing is known before it happened");
      * a file the last build read is gone or changed (a re-landed batch, retention's purge);
      * the code changed (the model's SQL, the models and macros it uses) or a configuration
        table it reads changed (its content's hash).

    State, schema `incremental` (bookkeeping, not results): `builds` (one row per model: the
    night, the as_of and the fingerprint of code and configuration it was built with),
    `files` (per model, the landed files it has read: path, size, modification time, as
    `landed._files` lists them) and `build_log` (one row per build: night, full or not, keys
    rebuilt). A build writes them in its post-hook, in the transaction that
    writes the rows, so a failed build leaves the previous state and rows together.

    Usage in a model (see int_phone_queue_visits.sql):
        config(materialized='incremental', incremental_strategy='append',
               on_schema_change='sync_all_columns',
               pre_hook="{{ night_increment_begin([{'table': 'queue_log_events',
                   'instants': ['event_at']}], ['source_id', 'callid'], [source('config', ...)]) }}",
               post_hook="{{ night_increment_end([{'table': 'queue_log_events'}]) }}")
    and in its SQL, where it reads its input: `where {{ night_increment_filter(['source_id',
    'callid'], 'events') }}` (no filter when the model is not incremental: first build, full
    refresh, dbt unit tests).
-#}

{#- dbt's is_incremental(), false in a dbt unit test (no `this` there: the model runs on its
    fixtures, unfiltered). -#}
{% macro night_increment_is_incremental() -%}
{{ return(this is not none and is_incremental()) }}
{%- endmacro %}

{#- Name of a model's plan tables in schema incremental. -#}
{% macro night_increment_table(suffix) -%}
incremental.{{ this.identifier }}__{{ suffix }}
{%- endmacro %}

{#- Fingerprint of the model's code: its SQL, the SQL of the nodes it depends on and of theirs,
    and the macros each of them uses. -#}
{% macro night_increment_code_md5() -%}
{%- if execute -%}
{%- set parts = [model.raw_code] -%}
{%- set seen = [] -%}
{%- set queue = model.depends_on.nodes | list -%}
{%- for macro_id in model.depends_on.macros -%}
{%- do parts.append(graph.macros[macro_id].macro_sql if macro_id in graph.macros else macro_id) -%}
{%- endfor -%}
{%- for node_id in queue -%}
{%- if node_id not in seen and node_id in graph.nodes -%}
{%- do seen.append(node_id) -%}
{%- set node = graph.nodes[node_id] -%}
{%- do parts.append(node.raw_code) -%}
{%- for macro_id in node.depends_on.macros -%}
{%- do parts.append(graph.macros[macro_id].macro_sql if macro_id in graph.macros else macro_id) -%}
{%- endfor -%}
{%- for upstream in node.depends_on.nodes -%}
{%- do queue.append(upstream) -%}
{%- endfor -%}
{%- endif -%}
{%- endfor -%}
{{ local_md5(parts | join('\n--\n')) }}
{%- endif -%}
{%- endmacro %}

{#- Day of a landed batch file, from its path (<landing>/<source>/day=YYYY-MM-DD/<table>.parquet). -#}
{% macro night_increment_file_day(filename) -%}
cast(regexp_extract({{ filename }}, 'day=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) as date)
{%- endmacro %}

{#- The landed files of these landing tables visible on the night (day <= run_day). -#}
{% macro night_increment_visible_files(landing_tables) -%}
select filename, size, last_modified
from landed._files
where landing_table in ('{{ landing_tables | join("', '") }}')
  and {{ night_increment_file_day('filename') }} <= {{ run_day() }}
{%- endmacro %}

{#-
    Pre-hook: decide the plan, list the new files and the affected keys, delete their rows.
    inputs: the landing tables the model reads (through staging or landing_scan), each a dict
      table: the landing table (landed.<table>);
      keys (optional): the expressions over landed.<table> giving the model's key columns, in
        the order of `keys` below (default: the key columns themselves);
      instants (optional): the columns of landed.<table> the model compares with as_of;
      record (optional): the columns identifying a record across its versions (staging keeps
        the newest), when a record's key can change from one version to the next;
    keys: the model's key columns (never null in the model's rows: landed rows with a null key
      are not the model's), but for those listed in nullable_keys;
    nullable_keys: key columns that can be null in the model's rows (a staging model keeps
      every landed row): compared with `is not distinct from`, a null is one more key value;
    fingerprint_relations: configuration relations whose content decides the model's rows; a
      dict {'relation': ..., 'before': column} stands for the rows whose column is before the
      as_of (a calendar: rows of later dates may be added night after night, and a change of
      those only concerns keys with instants after the last build's as_of, rebuilt anyway);
    lookback: an interval subtracted from the last build's as_of (a rule that moves with as_of).
    Affected keys: the keys of the landed rows (day <= run_day) in a file the model has not read
    yet, or with an instant at or after the last build's as_of minus the lookback.
-#}
{#- k.<key> = <expr> for every key, null-safe for nullable_keys. -#}
{% macro night_increment_key_match(keys, exprs, nullable_keys=[]) -%}
{%- for key in keys %}k.{{ key }} {{ 'is not distinct from' if key in nullable_keys else '=' }} {{ exprs[loop.index0] }}{{ ' and ' if not loop.last }}{% endfor -%}
{%- endmacro %}

{% macro night_increment_begin(inputs, keys, fingerprint_relations=[], lookback="interval 0 second", nullable_keys=[]) %}
{%- set plan = night_increment_table('plan') -%}
{%- set new_files = night_increment_table('new_files') -%}
{%- set affected = night_increment_table('keys') -%}
{%- set forced_full = (not night_increment_is_incremental()) -%}
{%- set tables = [] -%}
{%- for input in inputs -%}{%- do tables.append(input.table) -%}{%- endfor -%}
create schema if not exists incremental;
create table if not exists incremental.builds (
    model varchar, run_day date, as_of timestamptz, fingerprint varchar
);
create table if not exists incremental.files (
    model varchar, filename varchar, size bigint, last_modified timestamptz
);
create table if not exists incremental.build_log (
    model varchar, run_day date, as_of timestamptz, full_rebuild boolean, keys_rebuilt bigint,
    built_at timestamptz
);
create or replace table {{ plan }} as
with previous as (
    select * from incremental.builds where model = '{{ this.identifier }}'
),

{#- fingerprint: stored for the next build (rows before this night's as_of);
    fingerprint_then: the same, of the rows before the last build's as_of, compared with it. #}
{%- for cutoff in ['as_of', 'previous_as_of'] %}
{{ 'fingerprint' if cutoff == 'as_of' else 'fingerprint_then' }} as (
    select '{{ night_increment_code_md5() }}'
    {%- for relation in fingerprint_relations %}
    {%- if relation.before is defined %}
        || ':' || (
            select coalesce(sum(hash(t))::varchar, '') || '/' || count(*) from {{ relation.relation }} as t
            where t.{{ relation.before }} < {{ as_of() if cutoff == 'as_of' else '(select as_of from previous)' }}
        )
    {%- else %}
        || ':' || (select coalesce(sum(hash(t))::varchar, '') || '/' || count(*) from {{ relation }} as t)
    {%- endif %}
    {%- endfor %} as fingerprint
),
{%- endfor %}

files_gone as (
    select count(*) as n
    from incremental.files as f
    where f.model = '{{ this.identifier }}'
      and not exists (
          select 1 from landed._files as l
          where l.filename = f.filename and l.size = f.size and l.last_modified = f.last_modified
      )
)

select
    {{ 'true' if forced_full else 'false' }}
    or previous.run_day is null
    or {{ run_day() }} < previous.run_day
    or {{ as_of() }} < previous.as_of
    or previous.fingerprint is distinct from (select fingerprint from fingerprint_then)
    or files_gone.n > 0 as full_rebuild,
    previous.as_of - {{ lookback }} as since,
    {{ run_day() }} as run_day,
    {{ as_of() }} as as_of,
    fingerprint.fingerprint
from fingerprint
cross join files_gone
left join previous on true;
create or replace table {{ new_files }} as
select visible.filename
from ({{ night_increment_visible_files(tables) }}) as visible
where not exists (
    select 1 from incremental.files as f
    where f.model = '{{ this.identifier }}' and f.filename = visible.filename
);
create or replace table {{ affected }} as
{%- for input in inputs %}
{%- set exprs = input.get('keys', keys) %}
select distinct {% for key in keys %}{{ exprs[loop.index0] }} as {{ key }}{{ ', ' if not loop.last }}{% endfor %}
from landed.{{ input.table }}
where not (select full_rebuild from {{ plan }})
  and day <= {{ run_day() }}
  {%- for expr in exprs %}
  {%- if keys[loop.index0] not in nullable_keys %}
  and ({{ expr }}) is not null
  {%- endif %}
  {%- endfor %}
  and (
      landed_file in (select filename from {{ new_files }})
      {%- for instant in input.get('instants', []) %}
      or {{ instant }} >= (select since from {{ plan }})
      {%- endfor %}
      {%- if input.get('record') %}
      {#- every version of a record in a new file: its key may have changed (a follow-up
          moved to another ticket), and the old key loses the record #}
      or ({{ input.record | join(', ') }}) in (
          select {{ input.record | join(', ') }} from landed.{{ input.table }}
          where landed_file in (select filename from {{ new_files }})
      )
      {%- endif %}
  )
{{ 'union' if not loop.last else ';' }}
{%- endfor %}
{%- if not forced_full %}
delete from {{ this }} as t
where (select full_rebuild from {{ plan }})
   or exists (
       select 1 from {{ affected }} as k
       where {% set t_keys = [] %}{% for key in keys %}{% do t_keys.append('t.' ~ key) %}{% endfor %}{{ night_increment_key_match(keys, t_keys, nullable_keys) }}
   );
{%- endif %}
{% endmacro %}

{#- The model's input filter: every row on a full rebuild, else the rows of the affected keys.
    keys: the model's key columns; exprs (optional): the expressions giving them in the filtered
    relation (default: alias.key); nullable_keys: as in night_increment_begin. No filter when
    the model is not incremental (first build,
    --full-refresh, dbt unit tests). -#}
{% macro night_increment_filter(keys, alias, exprs=none, nullable_keys=[]) -%}
{%- if night_increment_is_incremental() -%}
{%- set columns = [] -%}
{%- for key in keys -%}{%- do columns.append(exprs[loop.index0] if exprs else alias ~ '.' ~ key) -%}{%- endfor -%}
(
    (select full_rebuild from {{ night_increment_table('plan') }})
    or exists (
        select 1 from {{ night_increment_table('keys') }} as k
        where {{ night_increment_key_match(keys, columns, nullable_keys) }}
    )
)
{%- else -%}
true
{%- endif -%}
{%- endmacro %}

{#- Post-hook: record the night, the fingerprint and the files read; drop the plan tables. -#}
{% macro night_increment_end(inputs) %}
{%- set tables = [] -%}
{%- for input in inputs -%}{%- do tables.append(input.table) -%}{%- endfor -%}
delete from incremental.builds where model = '{{ this.identifier }}';
insert into incremental.builds
select '{{ this.identifier }}', run_day, as_of, fingerprint from {{ night_increment_table('plan') }};
insert into incremental.build_log
select
    '{{ this.identifier }}', run_day, as_of, full_rebuild,
    case when not full_rebuild then (select count(*) from {{ night_increment_table('keys') }}) end,
    current_timestamp
from {{ night_increment_table('plan') }};
{#- An incremental build read the files recorded (none gone or changed, none out of sight: the
    night is not older) and the new ones: only those are added. A full one records them all. #}
delete from incremental.files
where model = '{{ this.identifier }}' and (select full_rebuild from {{ night_increment_table('plan') }});
insert into incremental.files
select '{{ this.identifier }}', filename, size, last_modified
from ({{ night_increment_visible_files(tables) }}) as visible
where (select full_rebuild from {{ night_increment_table('plan') }})
   or filename in (select filename from {{ night_increment_table('new_files') }});
drop table {{ night_increment_table('plan') }};
drop table {{ night_increment_table('new_files') }};
drop table {{ night_increment_table('keys') }};
{% endmacro %}
