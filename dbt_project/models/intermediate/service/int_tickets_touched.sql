{#- Every landing that touches a ticket: a ticket version or an audit event, with when it
    landed and whether the ticket is deleted now. The one place the incremental ticket
    models learn which tickets to rebuild: each reads the tickets landed after its own
    watermark (`where loaded_at > loaded_at_watermark(this)`, so the filter reaches the
    staging reads), and drops the rows of deleted tickets (drop_deleted_tickets). A view:
    each model's watermark is its own. -#}
with

tickets as (

    select * from {{ ref('stg_helpdesk__tickets') }}

),

ticket_events as (

    select * from {{ ref('stg_helpdesk__ticket_events') }}

),

landings as (

    select ticket_id, loaded_at from tickets

    union all

    select ticket_id, loaded_at from ticket_events

),

final as (

    select
        landings.ticket_id,
        landings.loaded_at,
        coalesce(tickets.is_deleted, false) as is_deleted
    from landings
    left join tickets
        on landings.ticket_id = tickets.ticket_id

)

select * from final
