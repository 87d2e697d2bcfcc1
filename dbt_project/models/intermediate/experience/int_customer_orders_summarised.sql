-- Each ordering customer's order history as of the run's data date (var as_of_date):
-- lifetime value, tenure, recency and churn (no order in the last var churn_days days).
with

orders as (

    select * from {{ ref('int_orders_enriched') }}

),

summarised as (

    select
        customer_id,
        min(placed_at) as first_order_at,
        max(placed_at) as last_order_at,
        count(*) as order_count,
        sum(net_revenue) as net_revenue,
        sum(case when is_late_delivery then 1 else 0 end) as late_delivery_count,
        sum(case when refund_amount > 0 then 1 else 0 end) as refunded_order_count
    from orders
    where is_counted
    group by 1

),

as_of as (

    select
        *,
        cast('{{ as_of_date() }}' as date) as as_of_date
    from summarised

),

final as (

    select
        customer_id,
        first_order_at,
        last_order_at,
        cast(order_count as integer) as order_count,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        cast(late_delivery_count as integer) as late_delivery_count,
        cast(refunded_order_count as integer) as refunded_order_count,
        cast(
            {{ dbt.datediff('cast(first_order_at as date)', 'as_of_date', 'day') }}  -- noqa: LT05
            as integer
        ) as tenure_days,
        cast(
            {{ dbt.datediff('cast(last_order_at as date)', 'as_of_date', 'day') }}  -- noqa: LT05
            as integer
        ) as days_since_last_order,
        -- "No order in the last churn_days days": the window is the churn_days days
        -- ending on the as-of date, so an order exactly churn_days days ago is outside.
        (
            {{ dbt.datediff('cast(last_order_at as date)', 'as_of_date', 'day') }}
            >= {{ var('churn_days') }}
        ) as is_churned
    from as_of

)

select * from final
