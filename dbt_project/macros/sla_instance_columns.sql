{#- The columns that name an SLA instance, as int_sla_policy_applied gives them, in the
    order every SLA measuring model starts its output with: sla_events stacks those models
    with `union all`, which pairs columns by position, so the order is declared once here.
    `relation` is the alias the columns are read from. -#}
{% macro sla_instance_columns(relation) -%}
    {%- for column in [
        'sla_event_id',
        'ticket_id',
        'priority',
        'metric',
        'target_minutes',
        'is_business_hours',
        'sla_started_at',
    ] %}
        {{ relation }}.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
