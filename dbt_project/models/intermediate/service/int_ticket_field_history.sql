{#- Every value a ticket's priority, group and assignee took, with when it was set and
    when the next value of the same field took over (null: still in force). Status has
    its own history (int_ticket_status_changes). Incremental: a run rebuilds only the
    tickets with events landed since the last run, each from all of its field events (a
    late event changes its neighbours' end), and replaces them by ticket_id. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ticket_id',
        on_schema_change='append_new_columns',
    )
}}

with

ticket_events as (

    select * from {{ ref('stg_helpdesk__ticket_events') }}

),

field_events as (

    select
        ticket_id,
        ticket_event_id,
        field_name,
        new_value as field_value,
        occurred_at as valid_from,
        loaded_at
    from ticket_events
    where field_name in ('priority', 'group_id', 'assignee_id')
        and event_type in ('Create', 'Change')
    {% if is_incremental() %}
        and ticket_id in (
            select ticket_id from ticket_events
            where loaded_at > {{ loaded_at_watermark(this) }}
        )
        {% endif %}

),

final as (

    select
        ticket_id,
        ticket_event_id,
        field_name,
        field_value,
        valid_from,
        lead(valid_from) over (
            partition by ticket_id, field_name
            order by valid_from, ticket_event_id
        ) as valid_to,
        loaded_at
    from field_events

)

select * from final
