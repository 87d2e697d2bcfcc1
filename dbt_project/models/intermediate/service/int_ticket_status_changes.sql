-- Every status a ticket took, with when it started and when the next one took over: the
-- status rows of int_ticket_field_changes, with reopens flagged.
with

field_changes as (

    select * from {{ ref('int_ticket_field_changes') }}
    where field_name = 'status'

),

final as (

    select
        ticket_id,
        ticket_event_id,
        changed_at,
        previous_value as previous_status,
        new_value as status,
        next_changed_at,
        (
            previous_value = 'solved'
            and new_value in ('new', 'open', 'pending', 'hold')
        ) as is_reopen,
        loaded_at
    from field_changes

)

select * from final
