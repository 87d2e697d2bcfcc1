with

source as (

    select * from {{ source('helpdesk', 'tickets') }}

),

latest as (

    {{ latest_version('source', 'id', 'updated_at desc, _loaded_at desc') }}

),

final as (

    select
        id as ticket_id,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        status,
        -- The incremental export sends a deleted ticket again with status 'deleted'.
        coalesce(status = 'deleted', false) as is_deleted,
        priority,
        requester_id,
        submitter_id,
        assignee_id,
        group_id,
        channel,
        subject,
        {{ dbt.safe_cast("nullif(trim(order_id_field), '')", api.Column.translate_type('bigint')) }}
            as order_id,
        satisfaction_score as satisfaction_rating,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest

)

select * from final
