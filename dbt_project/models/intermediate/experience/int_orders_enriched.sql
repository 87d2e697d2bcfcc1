-- Each order with its refunds, net revenue, delivery punctuality and its place in the
-- customer's sequence of (non-cancelled) orders.
with

orders as (

    select * from {{ ref('stg_orders__orders') }}

),

refunds as (

    select * from {{ ref('stg_orders__refunds') }}

),

order_refunds as (

    select
        order_id,
        sum(refund_amount) as refund_amount,
        count(*) as refund_count
    from refunds
    group by 1

),

joined as (

    select
        orders.order_id,
        orders.customer_id,
        orders.order_status,
        orders.is_counted,
        orders.currency,
        orders.placed_at,
        cast(orders.placed_at as date) as order_date,
        cast({{ dbt.date_trunc('month', 'orders.placed_at') }} as date) as order_month,
        orders.promised_delivery_date,
        orders.shipped_at,
        orders.delivered_at,
        cast(orders.delivered_at as date) as delivered_date,
        orders.total,
        cast(coalesce(order_refunds.refund_amount, 0) as decimal(18, 2)) as refund_amount
    from orders
    left join order_refunds
        on orders.order_id = order_refunds.order_id

),

sequenced as (

    select
        *,
        case
            when is_counted then row_number() over (
                    partition by customer_id, is_counted
                    order by placed_at, order_id
                )
        end as customer_order_number,
        case
            when is_counted then lead(order_date) over (
                    partition by customer_id, is_counted
                    order by placed_at, order_id
                )
        end as next_order_date
    from joined

),

final as (

    select
        order_id,
        customer_id,
        order_status,
        is_counted,
        currency,
        placed_at,
        order_date,
        order_month,
        promised_delivery_date,
        shipped_at,
        delivered_at,
        delivered_at is not null as is_delivered,
        coalesce(
            delivered_at is not null
            and promised_delivery_date is not null
            and delivered_date > promised_delivery_date,
            false
        ) as is_late_delivery,
        case
            when delivered_at is not null and promised_delivery_date is not null
                then {{ dbt.datediff('promised_delivery_date', 'delivered_date', 'day') }}
        end as days_late,
        total,
        refund_amount,
        -- Cancelled orders count nowhere, their refunds included.
        cast(case when is_counted then total - refund_amount end as decimal(18, 2))
            as net_revenue,
        customer_order_number,
        next_order_date
    from sequenced

)

select * from final
