with

source as (

    select * from {{ source('helpdesk', 'ticket_events') }}

),

latest as (

    -- Incremental exports repeat events across pages and windows: one row per child id.
    select
        *,
        row_number() over (
            partition by child_id
            order by _loaded_at desc
        ) as version_rank
    from source
    -- An audit without child events lands as one row with empty child columns.
    where child_id is not null

),

final as (

    select
        child_id as ticket_event_id,
        audit_id,
        ticket_id,
        {{ to_utc('created_at') }} as occurred_at,
        updater_id,
        via_channel,
        child_type as event_type,
        field_name,
        value as new_value,
        previous_value,
        coalesce(is_public, false) as is_public,
        author_id
    from latest
    where version_rank = 1

)

select * from final
