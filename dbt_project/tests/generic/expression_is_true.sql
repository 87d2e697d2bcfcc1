{#- Row-level rule: fails with every row where `expression` is false (nulls pass).
    Written here because dbt packages cannot be downloaded offline (no dbt_utils). -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce({{ expression }}, true)

{% endtest %}
