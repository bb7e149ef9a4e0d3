{#- Generic data test: a model's column checks in one test (one dbt node per model).

    not_null: columns that hold no null; unique: columns whose non-null values appear once;
    accepted_values: column -> the values it may hold (nulls pass, as in dbt's own test);
    unique_combinations: keys (lists of columns; a model may have several) whose values no two
    rows share, a null counting as a value (two rows with the same columns null are a duplicate).
    Why one test and not one per column: at 28 days of history a data test costs dbt about
    10-20 ms of its own work whatever its rows, and these per-column tests were most of a
    night's nodes (DECISIONLOG Part 2, "One data test per model for its columns").
    A failing test returns one row per problem, (column_name, check_name, value, failing_rows):
    a column holding nulls, a duplicated value, a value not accepted, a duplicated key (its
    columns joined by ', ' in column_name, its values the same way in value, null as 'null'). vigie/transform.py's
    TransformFailed prints the first rows beside the test's id: the model is in the id, the
    column and the value in the rows.
-#}
{% test column_checks(model, not_null=[], unique=[], accepted_values={}, unique_combinations=[]) %}
{%- set parts = [] -%}
{%- if not_null -%}
{%- set part -%}
select column_name, 'not_null' as check_name, cast(null as varchar) as value, null_rows as failing_rows
from (
    select
    {%- for column in not_null %}
        count(*) filter (where "{{ column }}" is null) as "{{ column }}"{{ "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
) unpivot (null_rows for column_name in (
    {%- for column in not_null %}"{{ column }}"{{ ", " if not loop.last }}{% endfor -%}
))
where null_rows > 0
{%- endset -%}
{%- do parts.append(part) -%}
{%- endif -%}
{%- for column in unique -%}
{%- set part -%}
select '{{ column }}' as column_name, 'unique' as check_name, cast("{{ column }}" as varchar) as value,
    count(*) as failing_rows
from {{ model }}
where "{{ column }}" is not null
group by "{{ column }}"
having count(*) > 1
{%- endset -%}
{%- do parts.append(part) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
{%- set part -%}
select '{{ column }}' as column_name, 'accepted_values' as check_name, cast("{{ column }}" as varchar) as value,
    count(*) as failing_rows
from {{ model }}
where "{{ column }}" not in (
    {%- for v in values %}'{{ v | string | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor -%}
)
group by "{{ column }}"
{%- endset -%}
{%- do parts.append(part) -%}
{%- endfor -%}
{%- for key in unique_combinations -%}
{%- set part -%}
select '{{ key | join(", ") }}' as column_name, 'unique_combination' as check_name,
    concat_ws(', '
    {%- for column in key %}, coalesce(cast("{{ column }}" as varchar), 'null'){% endfor -%}
    ) as value,
    count(*) as failing_rows
from {{ model }}
group by {% for column in key %}"{{ column }}"{{ ", " if not loop.last }}{% endfor %}
having count(*) > 1
{%- endset -%}
{%- do parts.append(part) -%}
{%- endfor %}
{{ parts | join("\nunion all\n") }}
{% endtest %}
