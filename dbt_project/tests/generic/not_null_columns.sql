{#- Generic data test: none of the given columns of the model holds a null.

    One query (one scan, one dbt node) per model instead of one `not_null` test per column:
    at 28 days of history a data test costs dbt about 10-20 ms of its own work whatever the
    rows, and 160 `not_null` tests were most of a night's 228 (DECISIONLOG Part 2, "Running
    dbt": one not-null test per model). A failing test returns one row per column that holds
    nulls (column_name, null_rows), which vigie/transform.py's TransformFailed prints beside
    the test's id: the model is in the id, the column in the row.
-#}
{% test not_null_columns(model, columns) %}
select column_name, null_rows
from (
    select
    {%- for column in columns %}
        count(*) filter (where "{{ column }}" is null) as "{{ column }}"{{ "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
) unpivot (null_rows for column_name in (
    {%- for column in columns %}"{{ column }}"{{ ", " if not loop.last }}{% endfor -%}
))
where null_rows > 0
{% endtest %}
