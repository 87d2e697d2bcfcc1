-- Each customer's service segment, published for the semantic layer's
-- customer__service_segment dimension (the intermediate layer is not published).
with

segments as (

    select * from {{ ref('int_customers_service_segmented') }}

),

final as (

    select
        customer_id,
        service_segment
    from segments

)

select * from final
