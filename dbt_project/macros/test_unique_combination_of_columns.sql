{#- Generic data test: no two rows share the same values of the given columns (the grain of a
    model). Written here because dbt packages cannot be installed offline (docs/stack.md). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
