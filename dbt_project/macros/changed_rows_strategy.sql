{#- The `changed_rows` incremental strategy of the marts: each run computes the whole
    model (its SQL has no is_incremental branch, so it is the same rows as a full
    refresh), then writes only the difference into the table: the rows whose key is gone
    or whose values changed are deleted, the new and changed ones inserted. Measured at
    50,000 customers, creating `experience.sessions` afresh with its primary key took
    15.7 s (DuckDB builds the key's index over 900k rows); a day changes ~1% of it.
    The key is the model's `unique_key`, else its primary key constraint (every mart
    declares one). -#}
{% macro get_incremental_changed_rows_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = changed_rows_key(arg_dict['unique_key']) -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | list -%}
    {%- set same_key -%}
        {%- for key in keys %}{{ 'and ' if not loop.first }}source.{{ adapter.quote(key) }} = target.{{ adapter.quote(key) }} {% endfor -%}
    {%- endset %}
    delete from {{ target }} as target
    where not exists (
        select 1 from {{ source }} as source
        where {{ same_key }}
        {%- for column in columns %}
            and source.{{ column }} is not distinct from target.{{ column }}
        {%- endfor %}
    );

    insert into {{ target }} ({{ columns | join(', ') }})
    select {{ columns | join(', ') }}
    from {{ source }} as source
    where not exists (select 1 from {{ target }} as target where {{ same_key }})
{% endmacro %}


{#- The key columns `changed_rows` merges on: `unique_key` (a column or a list), else the
    model's primary key constraint. -#}
{% macro changed_rows_key(unique_key) %}
    {%- if unique_key is string -%}
        {{ return([unique_key]) }}
    {%- elif unique_key -%}
        {{ return(unique_key | list) }}
    {%- endif -%}
    {%- for constraint in model.get('constraints', []) -%}
        {%- if constraint.type == 'primary_key' -%}
            {{ return(constraint.columns | list) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(
        "model " ~ model.name ~ ": the changed_rows strategy needs a unique_key or a primary key constraint"
    ) }}
{% endmacro %}
