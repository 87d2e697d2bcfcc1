{#- What went wrong for each customer in service, from the service mart's tickets: the
    one place the experience mart's drivers and follow-up list take these flags from.
    - reply SLA breach: a breached first-reply or next-reply instance on any ticket.
    - any SLA breach: any breached SLA instance of any metric (service.sla_events).
    - unresolved: not solved or closed (the tickets mart's current status, as of the
      run's data). -#}
with

tickets as (

    select * from {{ ref('tickets') }}

),

flagged as (

    select
        customer_id,
        ticket_id,
        created_at,
        status not in ('solved', 'closed') as is_unresolved,
        (
            coalesce(is_first_reply_sla_breached, false)
            or coalesce(next_reply_sla_breach_count, 0) > 0
        ) as is_reply_sla_breached,
        coalesce(is_any_sla_breached, false) as is_any_sla_breached
    from tickets
    where customer_id is not null

),

newest_open as (

    select
        customer_id,
        ticket_id,
        row_number() over (
            partition by customer_id
            order by created_at desc, ticket_id desc
        ) as open_rank
    from flagged
    where is_unresolved

),

summarised as (

    select
        customer_id,
        count(*) as ticket_count,
        max(case when is_unresolved then 1 else 0 end) = 1 as has_unresolved_ticket,
        max(case when is_reply_sla_breached then 1 else 0 end) = 1 as has_reply_sla_breach,
        max(case when is_any_sla_breached then 1 else 0 end) = 1 as has_sla_breach
    from flagged
    group by 1

),

final as (

    select
        summarised.customer_id,
        cast(summarised.ticket_count as integer) as ticket_count,
        summarised.has_unresolved_ticket,
        summarised.has_reply_sla_breach,
        summarised.has_sla_breach,
        newest_open.ticket_id as newest_open_ticket_id
    from summarised
    left join newest_open
        on summarised.customer_id = newest_open.customer_id
        and newest_open.open_rank = 1

)

select * from final
