with

source as (

    select * from {{ source('helpdesk', 'users') }}

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
        id as user_id,
        name as user_name,
        lower(trim(email)) as email_normalized,
        role,
        role in ('agent', 'admin') as is_agent,
        {{ to_utc('created_at') }} as created_at
    from latest
    where version_rank = 1

)

select * from final
