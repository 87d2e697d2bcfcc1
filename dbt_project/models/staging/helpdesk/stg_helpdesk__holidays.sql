-- Holidays are landed as a full snapshot each run: the latest snapshot is the truth.
with

source as (

    select * from {{ source('helpdesk', 'holidays') }}

),

latest_snapshot as (

    select * from source
    where _loaded_at = (select max(_loaded_at) from source)

),

final as (

    select
        schedule_id,
        name as holiday_name,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date
    from latest_snapshot

)

select * from final
