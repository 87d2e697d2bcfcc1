with

source as (

    select * from {{ source('helpdesk', 'groups') }}

),

latest as (

    select
        *,
        row_number() over (partition by id order by _loaded_at desc) as version_rank
    from source

),

final as (

    select
        id as group_id,
        name as group_name
    from latest
    where version_rank = 1

)

select * from final
