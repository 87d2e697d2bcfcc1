with

source as (

    select * from {{ source('orders', 'customers') }}

),

latest as (

    {{ latest_version('source', 'id', 'updated_at desc, _loaded_at desc') }}

),

final as (

    select
        id as customer_id,
        lower(trim(email)) as email_normalized,
        country,
        marketing_opt_in as is_marketing_opt_in,
        {{ to_utc('created_at') }} as signup_at,
        {{ to_utc('updated_at') }} as updated_at
    from latest

)

select * from final
