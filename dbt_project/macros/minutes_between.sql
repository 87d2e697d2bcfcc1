{#- Exact minutes from `start` to `finish` as a double (dbt.datediff counts boundaries). -#}
{% macro minutes_between(start, finish) -%}
    {{ return(adapter.dispatch('minutes_between', 'cxw')(start, finish)) }}
{%- endmacro %}

{% macro default__minutes_between(start, finish) -%}
    (extract(epoch from ({{ finish }}) - ({{ start }})) / 60.0)
{%- endmacro %}

{% macro duckdb__minutes_between(start, finish) -%}
    ((epoch_us({{ finish }}) - epoch_us({{ start }})) / 60000000.0)
{%- endmacro %}

{#- Whole microseconds as a double, divided in double precision as on DuckDB (numeric
    division would round differently in the last bits). -#}
{% macro postgres__minutes_between(start, finish) -%}
    (cast({{ microseconds_between(start, finish) }} as double precision) / 60000000.0)
{%- endmacro %}
