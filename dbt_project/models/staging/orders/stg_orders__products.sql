with

source as (

    select * from {{ source('orders', 'products') }}

),

latest as (

    {{ latest_version('source', 'id', 'updated_at desc, _loaded_at desc') }}

),

final as (

    select
        id as product_id,
        sku,
        title as product_title,
        category as product_category,
        cast(price as decimal(18, 2)) as list_price,
        {{ to_utc('updated_at') }} as updated_at
    from latest

)

select * from final
