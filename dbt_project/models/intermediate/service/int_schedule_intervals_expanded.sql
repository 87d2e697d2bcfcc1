-- Every business-hours interval of every schedule as UTC timestamps, over the dates the
-- tickets need: the weekly intervals (minutes from Sunday 00:00 local time) laid on each
-- local date, converted with the schedule's own time zone (daylight saving included),
-- holidays (local dates, inclusive) left out.
with

schedule_intervals as (

    select * from {{ ref('stg_helpdesk__schedule_intervals') }}

),

holidays as (

    select * from {{ ref('stg_helpdesk__holidays') }}

),

time_zones as (

    select * from {{ ref('zendesk_time_zones') }}

),

tickets as (

    select * from {{ ref('stg_helpdesk__tickets') }}

),

date_bounds as (

    select
        {{ dbt.dateadd('day', -2, 'min(created_at)') }} as first_date,
        {{ dbt.dateadd('day', 31, 'max(updated_at)') }} as last_date
    from tickets

),

local_dates as (

    {{ days_between_series('date_bounds', 'first_date', 'last_date', 'local_date') }}

),

schedules as (

    select distinct
        schedule_intervals.schedule_id,
        coalesce(time_zones.iana_name, schedule_intervals.time_zone_name) as iana_time_zone
    from schedule_intervals
    left join time_zones
        on schedule_intervals.time_zone_name = time_zones.zendesk_name

),

intervals_on_dates as (

    select
        schedule_intervals.schedule_id,
        schedules.iana_time_zone,
        local_dates.local_date,
        {{ dbt.dateadd(
            'minute',
            'schedule_intervals.start_minute_of_week - 1440 * extract(dow from local_dates.local_date)',
            'cast(local_dates.local_date as timestamp)'
        ) }} as local_start_at,
        {{ dbt.dateadd(
            'minute',
            'schedule_intervals.end_minute_of_week - 1440 * extract(dow from local_dates.local_date)',
            'cast(local_dates.local_date as timestamp)'
        ) }} as local_end_at
    from schedule_intervals
    inner join schedules
        on schedule_intervals.schedule_id = schedules.schedule_id
    inner join local_dates
        on (
            cast(floor(schedule_intervals.start_minute_of_week / 1440) as integer)
            = cast(extract(dow from local_dates.local_date) as integer)
        )

),

working_days as (

    select intervals_on_dates.*
    from intervals_on_dates
    left join holidays
        on intervals_on_dates.schedule_id = holidays.schedule_id
        and intervals_on_dates.local_date between holidays.start_date and holidays.end_date
    where holidays.schedule_id is null

),

final as (

    select
        schedule_id,
        local_date,
        {{ local_to_utc('local_start_at', 'iana_time_zone') }} as interval_start_at,
        {{ local_to_utc('local_end_at', 'iana_time_zone') }} as interval_end_at
    from working_days

)

select * from final
