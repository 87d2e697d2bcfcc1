{#- One row per month start from `first_month` to `last_month` (columns of `relation`,
    both first days of a month), named `column_name`. -#}
{% macro months_between_series(relation, first_month, last_month, column_name) -%}
    {{ return(adapter.dispatch('months_between_series', 'cxw')(relation, first_month, last_month, column_name)) }}
{%- endmacro %}

{% macro default__months_between_series(relation, first_month, last_month, column_name) -%}
    select cast(month_start as date) as {{ column_name }}
    from {{ relation }}
    cross join lateral generate_series(
        cast({{ first_month }} as timestamp),
        cast({{ last_month }} as timestamp),
        interval '1 month'
    ) as months (month_start)
{%- endmacro %}
