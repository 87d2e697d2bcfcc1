with

source as (

    select * from {{ source('helpdesk', 'users') }}

),

latest as (

    {{ latest_version('source', 'id', 'updated_at desc, _loaded_at desc') }}

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

)

select * from final
