{#- The `changed_rows` incremental strategy of the marts: each run computes the whole
    model (its SQL has no is_incremental branch, so it is the same rows as a full
    refresh), then writes only the difference into the table: the rows whose values
    changed or whose key is gone are deleted, the new and changed ones inserted.
    Measured at 50,000 customers (900k sessions): creating `experience.sessions` afresh
    with its primary key took 15.7 s (DuckDB builds the key's index over every row);
    finding the changed rows by one set difference takes 0.8 s (a correlated
    `not exists` over every column took 3.6 s), and a day changes ~1% of the rows.
    The key is the model's `unique_key`, else its primary key constraint (every mart
    declares one); its columns must not be null (they are matched with `=`). -#}
{% macro get_incremental_changed_rows_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {#- PostgreSQL cuts names at 63 characters, as long as the temp relation's can be. -#}
    {%- set changed = adapter.quote(source.identifier[:54] ~ '__changed') -%}
    {%- set keys = changed_rows_key(arg_dict['unique_key']) -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {%- set key_matches = [] -%}
    {%- for key in keys -%}
        {%- do key_matches.append('target.' ~ adapter.quote(key) ~ ' = other.' ~ adapter.quote(key)) -%}
    {%- endfor -%}
    {%- set same_key = key_matches | join(' and ') %}
    -- The new and changed rows: one set difference over whole rows (nulls compare equal).
    create temporary table {{ changed }} as
    select {{ columns }} from {{ source }}
    except
    select {{ columns }} from {{ target }};

    -- Out: the old versions of the changed rows, and the rows whose key is gone.
    delete from {{ target }} as target
    using {{ changed }} as other
    where {{ same_key }};

    delete from {{ target }} as target
    where not exists (select 1 from {{ source }} as other where {{ same_key }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ changed }};

    drop table {{ changed }}
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
