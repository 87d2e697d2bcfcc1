{#- Data tests sized to the run. dbt's own `get_where_subquery` (overridden here for every
    adapter: the root project's `default__` wins over the global one) wraps the tested
    relation in `(select * from relation where <where>)` when a test has a `where`
    config. A test's `where` is rendered when dbt parses the YAML, not when the test runs,
    so it cannot read the run's state itself: it names the placeholder
    `cxw_new_rows_loaded_since` instead, and this macro replaces it at execution with
    `new_rows_loaded_since()`: the earliest landing time of the batches this build reads
    for the first time. So `where: "loaded_at >= cxw_new_rows_loaded_since"` tests, on an
    incremental build, only the rows those batches brought, and on a full refresh, a
    first build or a `dbt build` by hand (no time given) every row. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace(
            'cxw_new_rows_loaded_since', new_rows_loaded_since()
        ) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The earliest `_loaded_at` (UTC, as staging's `loaded_at`) of the batches this build
    reads for the first time, a timestamp literal: cxw.warehouse.build sets
    CXW_NEW_ROWS_LOADED_SINCE for an incremental build (first_new_landing). Landing
    stamps a batch when it starts, so every row of those batches carries that time or a
    later one, whatever order their landings finished in; a row built from them carries
    it (or a later landing) as its `loaded_at`. Read only at execution time (a new value
    each day must not make dbt re-parse, as_of_date.sql); '1970-01-01' when unset:
    everything. -#}
{% macro new_rows_loaded_since() -%}
    {%- set since = '1970-01-01 00:00:00' -%}
    {%- if execute -%}
        {%- set since = env_var('CXW_NEW_ROWS_LOADED_SINCE', since) -%}
    {%- endif -%}
    {{ return("cast('" ~ since ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
