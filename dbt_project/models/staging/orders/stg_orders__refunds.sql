-- Refunds are never updated: a record repeated across load windows is the same refund.
with

source as (

    select * from {{ source('orders', 'refunds') }}

),

latest as (

    {{ latest_version('source', 'id', '_loaded_at desc') }}

),

final as (

    select
        id as refund_id,
        order_id,
        cast(amount as decimal(18, 2)) as refund_amount,
        reason as refund_reason,
        {{ to_utc('created_at') }} as refunded_at
    from latest

)

select * from final
