{#- The tickets an incremental SLA measuring model (`this`) measures again, from its
    policy-applied instances (`instances`, a CTE): those whose instances or priority
    landed since the model's last run, every ticket with an instance still running (it
    runs to the as-of end), and every ticket whose built rows hold a target the policy no
    longer has (or no row at all). A `select ticket_id`, for `where ticket_id in (...)`. -#}
{% macro sla_tickets_to_measure(instances) -%}
    select ticket_id from {{ instances }}
    where loaded_at > {{ loaded_at_watermark(this) }}
        or reached_at is null

    union

    select {{ instances }}.ticket_id
    from {{ instances }}
    left join {{ this }} as built
        on {{ instances }}.sla_event_id = built.sla_event_id
        and {{ instances }}.target_minutes = built.target_minutes
        and {{ instances }}.is_business_hours = built.is_business_hours
    where built.sla_event_id is null
{%- endmacro %}
