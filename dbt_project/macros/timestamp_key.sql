{#- A timestamp as fixed ISO-8601 text with microseconds ('2026-02-02T12:30:00.000000Z'),
    the same on every warehouse: for building keys. -#}
{% macro timestamp_key(column) -%}
    {{ return(adapter.dispatch('timestamp_key', 'cxw')(column)) }}
{%- endmacro %}

{% macro default__timestamp_key(column) -%}
    to_char({{ column }}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
{%- endmacro %}

{% macro duckdb__timestamp_key(column) -%}
    strftime({{ column }}, '%Y-%m-%dT%H:%M:%S.%fZ')
{%- endmacro %}
