-- Refunds are never updated: a record repeated across load windows is the same refund.
with

source as (

    select * from {{ source('orders', 'refunds') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by id
            order by _loaded_at desc
        ) as version_rank
    from source

),

final as (

    select
        id as refund_id,
        order_id,
        cast(amount as decimal(18, 2)) as refund_amount,
        reason as refund_reason,
        {{ to_utc('created_at') }} as refunded_at
    from latest
    where version_rank = 1

)

select * from final
