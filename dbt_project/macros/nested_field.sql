{#- Member `field` of the nested record `column` (a GA4 STRUCT), as `data_type` where the
    warehouse keeps records untyped (jsonb on PostgreSQL, loaded by
    cxw.warehouse_postgres); text when no type is given. -#}
{% macro nested_field(column, field, data_type=none) -%}
    {{ return(adapter.dispatch('nested_field', 'cxw')(column, field, data_type)) }}
{%- endmacro %}

{#- STRUCT / RECORD columns: DuckDB, BigQuery. -#}
{% macro default__nested_field(column, field, data_type) -%}
    {{ column }}.{{ field }}
{%- endmacro %}

{% macro postgres__nested_field(column, field, data_type) -%}
    {%- if data_type is none -%}
        ({{ column }} ->> '{{ field }}')
    {%- else -%}
        cast({{ column }} ->> '{{ field }}' as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
