{#- Lower-case hex SHA-256 of a text expression. -#}
{% macro sha256(expression) -%}
    {{ return(adapter.dispatch('sha256', 'cxw')(expression)) }}
{%- endmacro %}

{% macro default__sha256(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}

{% macro duckdb__sha256(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro postgres__sha256(expression) -%}
    encode(sha256(convert_to({{ expression }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro bigquery__sha256(expression) -%}
    to_hex(sha256({{ expression }}))
{%- endmacro %}
