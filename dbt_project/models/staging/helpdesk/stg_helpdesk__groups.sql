with

source as (

    select * from {{ source('helpdesk', 'groups') }}

),

latest as (

    {{ latest_version('source', 'id', '_loaded_at desc') }}

),

final as (

    select
        id as group_id,
        name as group_name
    from latest

)

select * from final
