-- Schedules are landed as a full snapshot each run: the latest snapshot is the truth.
with

source as (

    select * from {{ source('helpdesk', 'schedule_intervals') }}

),

latest_snapshot as (

    select * from source
    where _loaded_at = (select max(_loaded_at) from source)

),

final as (

    select
        schedule_id,
        schedule_name,
        time_zone as time_zone_name,
        start_time as start_minute_of_week,
        end_time as end_minute_of_week
    from latest_snapshot

)

select * from final
