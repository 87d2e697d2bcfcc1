-- How service drives experience: customers grouped by their service segment (the worst
-- service they got on any of their tickets, int_customers_service_segmented), with their
-- loyalty measures. Always one row per segment.
with

customers as (

    select * from {{ ref('customers') }}

),

customer_segments as (

    select * from {{ ref('int_customers_service_segmented') }}

),

segments as (

    select 'no_ticket' as service_segment
    union all
    select 'reply_within_sla' as service_segment
    union all
    select 'reply_sla_breached' as service_segment
    union all
    select 'unresolved' as service_segment

),

segmented as (

    select
        customer_segments.service_segment,
        customers.*
    from customers
    inner join customer_segments
        on customers.customer_id = customer_segments.customer_id

),

aggregated as (

    select
        service_segment,
        count(*) as customers,
        sum(case when latest_nps_score is not null then 1 else 0 end) as nps_responses,
        sum(case when nps_category = 'promoter' then 1 else 0 end) as promoters,
        sum(case when nps_category = 'detractor' then 1 else 0 end) as detractors,
        sum(case when order_count >= 1 then 1 else 0 end) as ordering_customers,
        sum(case when order_count >= 2 then 1 else 0 end) as repeat_customers,
        sum(case when is_churned then 1 else 0 end) as churned_customers,
        avg(net_revenue) as avg_net_revenue
    from segmented
    group by 1

),

final as (

    select
        segments.service_segment,
        cast(coalesce(aggregated.customers, 0) as integer) as customers,
        cast(
            {{ net_promoter_score(
                'aggregated.promoters', 'aggregated.detractors', 'aggregated.nps_responses'
            ) }} as {{ type_double() }}
        ) as nps,
        cast(
            aggregated.repeat_customers * 1.0
            / nullif(aggregated.ordering_customers, 0) as {{ type_double() }}
        ) as repeat_purchase_rate,
        cast(
            aggregated.churned_customers * 1.0
            / nullif(aggregated.ordering_customers, 0) as {{ type_double() }}
        ) as churn_rate,
        cast(aggregated.avg_net_revenue as decimal(18, 2)) as avg_net_revenue
    from segments
    left join aggregated
        on segments.service_segment = aggregated.service_segment

)

select * from final
