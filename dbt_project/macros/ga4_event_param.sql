{#- The value of GA4 event parameter `key` from the repeated `event_params` column, read
    from the member for `value_type`: 'int' (int_value), 'string' (string_value),
    'double' (double_value, else float_value) or 'text' (whichever member is set, as
    text: for params GA4 sends sometimes as int, sometimes as string, like
    session_engaged). Null when the event has no such parameter. `keys_column`, where
    the warehouse has one, is `ga4_event_param_keys` of the params computed once per
    event: each param is then found by its position in it instead of by a scan of its
    own over the params. -#}
{% macro ga4_event_param(key, value_type, params_column='event_params', keys_column=none) -%}
    {{ return(adapter.dispatch('ga4_event_param', 'cxw')(key, value_type, params_column, keys_column)) }}
{%- endmacro %}

{#- The keys of an event's params, in order (a list), for `ga4_event_param`'s
    `keys_column`; null where the warehouse reads params without it. -#}
{% macro ga4_event_param_keys(params_column='event_params') -%}
    {{ return(adapter.dispatch('ga4_event_param_keys', 'cxw')(params_column)) }}
{%- endmacro %}

{% macro default__ga4_event_param_keys(params_column) -%}
    null
{%- endmacro %}

{% macro duckdb__ga4_event_param_keys(params_column) -%}
    list_transform({{ params_column }}, lambda param: param.key)
{%- endmacro %}

{% macro ga4_param_value_expression(value_column, value_type) -%}
    {%- if value_type == 'int' -%}
        {{ value_column }}.int_value
    {%- elif value_type == 'string' -%}
        {{ value_column }}.string_value
    {%- elif value_type == 'double' -%}
        coalesce({{ value_column }}.double_value, {{ value_column }}.float_value)
    {%- elif value_type == 'text' -%}
        coalesce(
            {{ value_column }}.string_value,
            cast({{ value_column }}.int_value as {{ dbt.type_string() }}),
            cast(coalesce({{ value_column }}.double_value, {{ value_column }}.float_value) as {{ dbt.type_string() }})
        )
    {%- else -%}
        {{ exceptions.raise_compiler_error("ga4_event_param: unknown value_type '" ~ value_type ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- BigQuery-style correlated subquery over the unnested array (BigQuery, Postgres
    with a composite array, Databricks). -#}
{% macro default__ga4_event_param(key, value_type, params_column, keys_column) -%}
    (
        select {{ ga4_param_value_expression('param.value', value_type) }}
        from unnest({{ params_column }}) as param
        where param.key = '{{ key }}'
        limit 1
    )
{%- endmacro %}

{#- The first param with the key: by its position in the keys (one list_position per
    param, no lambda), or, without them, by a filter over the params. -#}
{% macro duckdb__ga4_event_param(key, value_type, params_column, keys_column) -%}
    {%- if keys_column is none -%}
        {%- set param = "list_filter(" ~ params_column ~ ", lambda param: param.key = '" ~ key ~ "')[1]" -%}
    {%- else -%}
        {%- set param = params_column ~ "[list_position(" ~ keys_column ~ ", '" ~ key ~ "')]" -%}
    {%- endif -%}
    {{ ga4_param_value_expression(param ~ ".value", value_type) }}
{%- endmacro %}

{#- PostgreSQL keeps the repeated record as a jsonb array (cxw.warehouse_postgres): the
    first element with the key, its members read as text and cast. -#}
{% macro postgres__ga4_event_param(key, value_type, params_column, keys_column) -%}
    {%- set value = "param.element -> 'value'" -%}
    {%- set members = {
        'int': "cast(" ~ value ~ " ->> 'int_value' as bigint)",
        'string': "(" ~ value ~ " ->> 'string_value')",
        'double': "cast(coalesce(" ~ value ~ " ->> 'double_value', " ~ value ~ " ->> 'float_value') as double precision)",
        'text': "coalesce(" ~ value ~ " ->> 'string_value', " ~ value ~ " ->> 'int_value', cast(cast(coalesce("
            ~ value ~ " ->> 'double_value', " ~ value ~ " ->> 'float_value') as double precision) as text))",
    } -%}
    {%- if value_type not in members -%}
        {{ exceptions.raise_compiler_error("ga4_event_param: unknown value_type '" ~ value_type ~ "'") }}
    {%- endif -%}
    (
        select {{ members[value_type] }}
        from jsonb_array_elements({{ params_column }}) with ordinality as param (element, position)
        where param.element ->> 'key' = '{{ key }}'
        order by param.position
        limit 1
    )
{%- endmacro %}
