with

orders as (

    select * from {{ ref('stg_orders__orders') }}

),

final as (

    select
        cast(placed_at as date) as order_date,
        count(*) as orders_placed,
        count(distinct customer_id) as ordering_customers,
        cast(sum(total) as decimal(18, 2)) as gross_revenue
    from orders
    where is_counted
    group by 1

)

select * from final
