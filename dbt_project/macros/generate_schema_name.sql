{#- Marts are a published interface: their schemas are exactly `service` and
    `experience`, not `<target schema>_service`. On PostgreSQL every custom schema can
    carry the prefix CXW_PG_SCHEMA_PREFIX (empty by default), so that several builds
    (tests, CI runs) share one database without meeting. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.type == 'postgres' -%}
        {{ env_var('CXW_PG_SCHEMA_PREFIX', '') }}{{ custom_schema_name | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
