-- Every status a ticket took, with when it started and when the next one took over.
with

ticket_events as (

    select * from {{ ref('stg_helpdesk__ticket_events') }}

),

status_events as (

    select
        ticket_id,
        ticket_event_id,
        occurred_at as changed_at,
        previous_value as previous_status,
        new_value as status
    from ticket_events
    where field_name = 'status'
        and event_type in ('Create', 'Change')

),

final as (

    select
        *,
        lead(changed_at) over (
            partition by ticket_id
            order by changed_at, ticket_event_id
        ) as next_changed_at,
        previous_status = 'solved'
            and status in ('new', 'open', 'pending', 'hold') as is_reopen
    from status_events

)

select * from final
