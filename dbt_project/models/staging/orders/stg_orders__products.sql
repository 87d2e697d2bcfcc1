with

source as (

    select * from {{ source('orders', 'products') }}

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
        id as product_id,
        sku,
        title as product_title,
        category as product_category,
        cast(price as decimal(18, 2)) as list_price,
        {{ to_utc('updated_at') }} as updated_at
    from latest
    where version_rank = 1

)

select * from final
