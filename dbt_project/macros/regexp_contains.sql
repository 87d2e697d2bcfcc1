{#- Whether `expression` contains a match of the regular expression `pattern` (anchor it
    with ^...$ for a whole match). Patterns must keep to the syntax DuckDB's RE2 and
    PostgreSQL's ARE share: bracket classes, groups, alternation, ^ $ and {m,n}. -#}
{% macro regexp_contains(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_contains', 'cxw')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_contains(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regexp_contains(expression, pattern) -%}
    ({{ expression }} ~ {{ pattern }})
{%- endmacro %}
