{#- Data tests sized to the run. dbt's own `get_where_subquery` (overridden here for every
    adapter: the root project's `default__` wins over the global one) wraps the tested
    relation in `(select * from relation where <where>)` when a test has a `where`
    config. A test's `where` is rendered when dbt parses the YAML, not when the test runs,
    so it cannot read the run's state itself: it names the placeholder
    `cxw_last_build_loaded_through` instead, and this macro replaces it at execution with
    `last_build_loaded_through()`: the latest landing time the previous build of this
    warehouse read. So `where: "loaded_at > cxw_last_build_loaded_through"` tests, on an
    incremental build, only the rows landed since that build, and on a full refresh, a
    first build or a `dbt build` by hand (no previous build given) every row. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace(
            'cxw_last_build_loaded_through', last_build_loaded_through()
        ) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The latest `_loaded_at` (UTC, as staging's `loaded_at`) of the batches the previous
    build of this warehouse read, a timestamp literal: cxw.warehouse.build sets
    CXW_LAST_BUILD_LOADED_THROUGH for an incremental build. Landing stamps a batch with
    the wall clock when it lands, so every batch landed since carries a later one; a row
    built from it carries it (or a later landing) as its `loaded_at`. Read only at
    execution time (a new value each day must not make dbt re-parse, as_of_date.sql);
    '1970-01-01' when unset: everything. -#}
{% macro last_build_loaded_through() -%}
    {%- set through = '1970-01-01 00:00:00' -%}
    {%- if execute -%}
        {%- set through = env_var('CXW_LAST_BUILD_LOADED_THROUGH', through) -%}
    {%- endif -%}
    {{ return("cast('" ~ through ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
