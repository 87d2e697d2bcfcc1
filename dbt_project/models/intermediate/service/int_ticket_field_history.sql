-- Every value a ticket's priority, group and assignee took, with when it was set and when
-- the next value of the same field took over (null: still in force): those rows of
-- int_ticket_field_changes (status has int_ticket_status_changes).
with

field_changes as (

    select * from {{ ref('int_ticket_field_changes') }}
    where field_name in ('priority', 'group_id', 'assignee_id')

),

final as (

    select
        ticket_id,
        ticket_event_id,
        field_name,
        new_value as field_value,
        changed_at as valid_from,
        next_changed_at as valid_to,
        loaded_at
    from field_changes

)

select * from final
