with

source as (

    select * from {{ source('orders', 'customers') }}

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
        id as customer_id,
        lower(trim(email)) as email_normalized,
        country,
        marketing_opt_in as is_marketing_opt_in,
        {{ to_utc('created_at') }} as signup_at,
        {{ to_utc('updated_at') }} as updated_at
    from latest
    where version_rank = 1

)

select * from final
