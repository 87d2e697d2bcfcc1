{#- The tickets an incremental SLA measuring model (`this`) measures again, from its
    policy-applied instances (`instances`, a CTE): those touched since the model's
    last run (int_tickets_touched), every ticket with an instance still running (it
    runs to the as-of end), and every ticket whose built rows hold a target the policy no
    longer has (or no row at all). A `select ticket_id`, for `where ticket_id in (...)`. -#}
{% macro sla_tickets_to_measure(instances) -%}
    {{ tickets_touched_since_last_run() }}

    union

    select ticket_id from {{ instances }}
    where reached_at is null

    union

    select {{ instances }}.ticket_id
    from {{ instances }}
    left join {{ this }} as built
        on {{ instances }}.sla_event_id = built.sla_event_id
        and {{ instances }}.target_minutes = built.target_minutes
        and {{ instances }}.is_business_hours = built.is_business_hours
    where built.sla_event_id is null
{%- endmacro %}
