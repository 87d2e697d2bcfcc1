with

source as (

    select * from {{ source('orders', 'orders') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by id
            order by updated_at desc, _loaded_at desc
        ) as version_rank
    from source

),

final as (

    select
        id as order_id,
        customer_id,
        status as order_status,
        currency,
        cast(subtotal as decimal(18, 2)) as subtotal,
        cast(shipping as decimal(18, 2)) as shipping,
        cast(tax as decimal(18, 2)) as tax,
        cast(total as decimal(18, 2)) as total,
        placed_at,
        cast(promised_delivery_date as date) as promised_delivery_date,
        shipped_at,
        delivered_at,
        updated_at,
        status not in ('cancelled') as is_counted
    from latest
    where version_rank = 1

)

select * from final
