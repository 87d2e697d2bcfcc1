{#- Whole microseconds from `start` to `finish` (bigint). Sum these, not minutes: integer
    sums are exact in any order, so parallel aggregation gives the same result on every
    run (double sums differ in the last bits and would break rerun equality). -#}
{% macro microseconds_between(start, finish) -%}
    {{ return(adapter.dispatch('microseconds_between', 'cxw')(start, finish)) }}
{%- endmacro %}

{% macro default__microseconds_between(start, finish) -%}
    cast(round(extract(epoch from ({{ finish }}) - ({{ start }})) * 1000000) as bigint)
{%- endmacro %}

{% macro duckdb__microseconds_between(start, finish) -%}
    (epoch_us({{ finish }}) - epoch_us({{ start }}))
{%- endmacro %}
