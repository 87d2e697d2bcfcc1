{#- A UTC `timestamp` (without time zone) from a landed timestamp with time zone. -#}
{% macro to_utc(column) -%}
    {{ return(adapter.dispatch('to_utc', 'cxw')(column)) }}
{%- endmacro %}

{% macro default__to_utc(column) -%}
    cast(timezone('UTC', {{ column }}) as timestamp)
{%- endmacro %}
