{#- A UTC `timestamp` from a local wall-clock `timestamp` in the IANA zone `time_zone`
    (daylight saving included). -#}
{% macro local_to_utc(local_timestamp, time_zone) -%}
    {{ return(adapter.dispatch('local_to_utc', 'cxw')(local_timestamp, time_zone)) }}
{%- endmacro %}

{% macro default__local_to_utc(local_timestamp, time_zone) -%}
    cast(timezone('UTC', timezone({{ time_zone }}, {{ local_timestamp }})) as timestamp)
{%- endmacro %}
