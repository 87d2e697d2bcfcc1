{#- Every row of `relation` once per month from `first_month` to `last_month` (its
    columns, both first days of a month), with the month start as `column_name`. -#}
{% macro months_between_series(relation, first_month, last_month, column_name) -%}
    {{ return(adapter.dispatch('months_between_series', 'cxw')(relation, first_month, last_month, column_name)) }}
{%- endmacro %}

{% macro default__months_between_series(relation, first_month, last_month, column_name) -%}
    select
        {{ relation }}.*,
        cast(month_start as date) as {{ column_name }}
    from {{ relation }}
    cross join lateral generate_series(
        cast({{ first_month }} as timestamp),
        cast({{ last_month }} as timestamp),
        interval '1 month'
    ) as months (month_start)
{%- endmacro %}
