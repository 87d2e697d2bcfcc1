{#- Every value a ticket's status, priority, group and assignee took: the one place the
    audit children are read for field changes. Each change with when it was made and when
    the next change of the same field took over (null: still in force).
    int_ticket_status_changes and int_ticket_field_history are views of it. Incremental: a
    run rebuilds only the tickets with events landed since the last run, each from all of
    its field events (a late event changes its neighbours' next change), and replaces
    them by ticket_id. -#}
{{ incremental_by_ticket() }}

-- depends_on: {{ ref('int_tickets_touched') }}

with

ticket_events as (

    select * from {{ ref('stg_helpdesk__ticket_events') }}

),

field_events as (

    select
        ticket_id,
        ticket_event_id,
        field_name,
        previous_value,
        new_value,
        occurred_at as changed_at,
        loaded_at
    from ticket_events
    where field_name in ('status', 'priority', 'group_id', 'assignee_id')
        and event_type in ('Create', 'Change')
    {% if is_incremental() %}
        and ticket_id in ({{ tickets_touched_since_last_run() }})
    {% endif %}

),

final as (

    select
        ticket_id,
        ticket_event_id,
        field_name,
        previous_value,
        new_value,
        changed_at,
        lead(changed_at) over (
            partition by ticket_id, field_name
            order by changed_at, ticket_event_id
        ) as next_changed_at,
        loaded_at
    from field_events

)

select * from final
