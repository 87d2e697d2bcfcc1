{#- A UTC `timestamp` from microseconds since the Unix epoch (GA4 event_timestamp). -#}
{% macro timestamp_from_micros(column) -%}
    {{ return(adapter.dispatch('timestamp_from_micros', 'cxw')(column)) }}
{%- endmacro %}

{% macro default__timestamp_from_micros(column) -%}
    (cast('1970-01-01' as timestamp) + {{ column }} * interval '1 microsecond')
{%- endmacro %}

{% macro duckdb__timestamp_from_micros(column) -%}
    make_timestamp({{ column }})
{%- endmacro %}

{% macro bigquery__timestamp_from_micros(column) -%}
    cast(timestamp_micros({{ column }}) as datetime)
{%- endmacro %}
