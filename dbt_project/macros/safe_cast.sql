{#- dbt.safe_cast is a plain cast on PostgreSQL (it has no try-cast before version 16),
    so a text that is no number (a helpdesk order field "#1234") would fail the build
    where DuckDB's try_cast gives null. Integers are cast only from text that is one;
    other types as before. dbt's dispatch finds this before its own postgres variant
    (the root project is searched first). -#}
{% macro postgres__safe_cast(field, type) -%}
    {%- if type | lower in ('bigint', 'integer', 'int', 'smallint', 'int8', 'int4', 'int2') -%}
        case
            when cast({{ field }} as text) ~ '^\s*[+-]?[0-9]{1,18}\s*$'
                then cast({{ field }} as {{ type }})
        end
    {%- else -%}
        cast({{ field }} as {{ type }})
    {%- endif -%}
{%- endmacro %}
