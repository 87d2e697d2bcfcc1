{#- One row per date from `first_date` to `last_date` (columns of `relation`), named
    `column_name`. -#}
{% macro days_between_series(relation, first_date, last_date, column_name) -%}
    {{ return(adapter.dispatch('days_between_series', 'cxw')(relation, first_date, last_date, column_name)) }}
{%- endmacro %}

{% macro default__days_between_series(relation, first_date, last_date, column_name) -%}
    select cast(day_start as date) as {{ column_name }}
    from {{ relation }}
    cross join lateral generate_series(
        cast({{ first_date }} as timestamp),
        cast({{ last_date }} as timestamp),
        interval '1 day'
    ) as days (day_start)
{%- endmacro %}
