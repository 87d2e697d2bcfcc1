{#- An 8-byte floating point type (the marts' `double`). dbt.type_float() is a 4-byte
    `float` on DuckDB, too coarse for rates and means. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'cxw')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}
