-- Each customer's service segment: the worst service any of their tickets got
-- (unresolved > first reply SLA breached > replied within SLA), or no_ticket. The one
-- definition experience.service_impact groups by and the semantic layer's
-- customer__service_segment dimension reads.
with

customers as (

    select * from {{ ref('customers') }}

),

tickets as (

    select * from {{ ref('tickets') }}

),

segments as (

    select 'no_ticket' as service_segment, 0 as severity
    union all
    select 'reply_within_sla' as service_segment, 1 as severity
    union all
    select 'reply_sla_breached' as service_segment, 2 as severity
    union all
    select 'unresolved' as service_segment, 3 as severity

),

ticket_severities as (

    -- A ticket without an SLA policy has no breach: it counts as within SLA.
    select
        customer_id,
        case
            when status not in ('solved', 'closed') then 3
            when is_first_reply_sla_breached then 2
            else 1
        end as severity
    from tickets
    where customer_id is not null

),

customer_severities as (

    select
        customers.customer_id,
        coalesce(max(ticket_severities.severity), 0) as severity
    from customers
    left join ticket_severities
        on customers.customer_id = ticket_severities.customer_id
    group by 1

),

final as (

    select
        customer_severities.customer_id,
        segments.service_segment
    from customer_severities
    inner join segments
        on customer_severities.severity = segments.severity

)

select * from final
