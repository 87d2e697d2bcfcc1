with

source as (

    select * from {{ source('orders', 'orders') }}

),

latest as (

    {{ latest_version('source', 'id', 'updated_at desc, _loaded_at desc') }}

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
        {{ to_utc('placed_at') }} as placed_at,
        cast(promised_delivery_date as date) as promised_delivery_date,
        {{ to_utc('shipped_at') }} as shipped_at,
        {{ to_utc('delivered_at') }} as delivered_at,
        {{ to_utc('updated_at') }} as updated_at,
        status not in ('cancelled') as is_counted
    from latest

)

select * from final
