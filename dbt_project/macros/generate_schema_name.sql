{#- Custom schema names are used as-is (staging, intermediate, marts), not prefixed with the
    target schema: the BI snapshot, Great Expectations and the alerts read `marts.*` directly. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
