with

source as (

    select * from {{ source('orders', 'order_items') }}

),

latest as (

    {{ latest_version('source', 'id', 'updated_at desc, _loaded_at desc') }}

),

final as (

    select
        id as order_item_id,
        order_id,
        product_id,
        cast(quantity as integer) as quantity,
        cast(unit_price as decimal(18, 2)) as unit_price,
        cast(quantity * unit_price as decimal(18, 2)) as line_amount,
        {{ to_utc('updated_at') }} as updated_at
    from latest

)

select * from final
