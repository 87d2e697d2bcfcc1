-- One row per date and channel, from the first ticket to the as-of date. Tickets count
-- on the date of the event measured: created, solved, answered (survey) or, for the
-- backlog, still not solved or closed at the end of the day. A table rebuilt whole each
-- run from one row per ticket and its status history (incremental upstream): every
-- date can change when a ticket changes days later, and the work is linear in them.
{%- set double = type_double() %}

with

tickets as (

    select * from {{ ref('tickets') }}

),

status_changes as (

    select * from {{ ref('int_ticket_status_changes') }}

),

survey_responses as (

    select * from {{ ref('int_survey_responses_linked') }}

),

sla_events as (

    select * from {{ ref('sla_events') }}

),

date_bounds as (

    select
        cast(min(created_at) as date) as first_date,
        least(
            cast('{{ as_of_date() }}' as date),
            cast(max(coalesce(last_solved_at, created_at)) as date)
        ) as last_date
    from tickets

),

dates as (

    {{ days_between_series('date_bounds', 'first_date', 'last_date', 'kpi_date') }}

),

channels as (

    select distinct channel from tickets

),

grid as (

    select dates.kpi_date, channels.channel
    from dates
    cross join channels

),

created as (

    select
        cast(created_at as date) as kpi_date,
        channel,
        count(*) as tickets_created,
        percentile_cont(0.5) within group (order by first_reply_minutes)
            as first_reply_minutes_median,
        percentile_cont(0.9) within group (order by first_reply_minutes)
            as first_reply_minutes_p90,
        avg(case when is_first_reply_sla_breached then 1.0 when not is_first_reply_sla_breached then 0.0 end)
            as first_reply_sla_breach_rate,
        avg(case when is_any_sla_breached then 1.0 when not is_any_sla_breached then 0.0 end)
            as sla_breach_rate
    from tickets
    group by 1, 2

),

solved as (

    -- Tickets resolved (solved or closed now) on the date of their last solve.
    select
        cast(last_solved_at as date) as kpi_date,
        channel,
        count(*) as tickets_solved,
        percentile_cont(0.5) within group (order by full_resolution_minutes)
            as full_resolution_minutes_median,
        avg(case when is_one_touch_resolution then 1.0 else 0.0 end)
            as one_touch_resolution_rate,
        percentile_cont(0.5) within group (order by requester_wait_minutes)
            as requester_wait_minutes_median
    from tickets
    where full_resolution_minutes is not null
    group by 1, 2

),

next_replies as (

    -- Next-reply SLA instances on the date the requester wrote (the instance started).
    select
        cast(sla_events.sla_started_at as date) as kpi_date,
        tickets.channel,
        avg(case when sla_events.is_breached then 1.0 else 0.0 end) as next_reply_sla_breach_rate
    from sla_events
    inner join tickets
        on sla_events.ticket_id = tickets.ticket_id
    where sla_events.metric = 'next_reply_time'
    group by 1, 2

),

open_spells as (

    -- Each span a ticket spent not solved or closed (from its creation at the earliest),
    -- as the days it counts in the backlog at the end of: from the day it starts to the
    -- last day that ends before it closes (none yet while it is still open).
    select
        tickets.channel,
        cast(greatest(tickets.created_at, status_changes.changed_at) as date)
            as first_counted_date,
        cast({{ dbt.dateadd('day', -1, 'status_changes.next_changed_at') }} as date)
            as last_counted_date
    from tickets
    inner join status_changes
        on tickets.ticket_id = status_changes.ticket_id
    where status_changes.status not in ('solved', 'closed')

),

backlog_changes as (

    -- +1 on a spell's first day, -1 on the day after its last: the backlog of a day is
    -- the running sum, so the work grows with the history, not with days x tickets.
    select
        first_counted_date as kpi_date,
        channel,
        1 as backlog_change
    from open_spells
    where last_counted_date is null
        or first_counted_date <= last_counted_date

    union all

    select
        cast({{ dbt.dateadd('day', 1, 'last_counted_date') }} as date) as kpi_date,
        channel,
        -1 as backlog_change
    from open_spells
    where first_counted_date <= last_counted_date

),

daily_backlog_changes as (

    select
        kpi_date,
        channel,
        sum(backlog_change) as backlog_change
    from backlog_changes
    group by 1, 2

),

backlog as (

    select
        grid.kpi_date,
        grid.channel,
        sum(coalesce(daily_backlog_changes.backlog_change, 0)) over (
            partition by grid.channel
            order by grid.kpi_date
            rows between unbounded preceding and current row
        ) as open_backlog
    from grid
    left join daily_backlog_changes
        on grid.kpi_date = daily_backlog_changes.kpi_date
        and grid.channel = daily_backlog_changes.channel

),

surveys as (

    select
        cast(survey_responses.submitted_at as date) as kpi_date,
        tickets.channel,
        (
            100.0 * sum(case when survey_responses.is_csat_satisfied then 1 else 0 end)
            / nullif(sum(case when survey_responses.survey_type = 'csat' then 1 else 0 end), 0)
        ) as csat_pct,
        avg(case when survey_responses.survey_type = 'ces' then survey_responses.score end)
            as ces_mean
    from survey_responses
    inner join tickets
        on survey_responses.ticket_id = tickets.ticket_id
    group by 1, 2

),

final as (

    select
        grid.kpi_date as date,
        grid.channel,
        cast(coalesce(created.tickets_created, 0) as bigint) as tickets_created,
        cast(coalesce(solved.tickets_solved, 0) as bigint) as tickets_solved,
        cast(coalesce(backlog.open_backlog, 0) as bigint) as open_backlog,
        cast(created.first_reply_minutes_median as {{ double }}) as first_reply_minutes_median,
        cast(created.first_reply_minutes_p90 as {{ double }}) as first_reply_minutes_p90,
        cast(solved.full_resolution_minutes_median as {{ double }}) as full_resolution_minutes_median,
        cast(solved.one_touch_resolution_rate as {{ double }}) as one_touch_resolution_rate,
        cast(created.first_reply_sla_breach_rate as {{ double }}) as first_reply_sla_breach_rate,
        cast(surveys.csat_pct as {{ double }}) as csat_pct,
        cast(surveys.ces_mean as {{ double }}) as ces_mean,
        cast(next_replies.next_reply_sla_breach_rate as {{ double }}) as next_reply_sla_breach_rate,
        cast(created.sla_breach_rate as {{ double }}) as sla_breach_rate,
        cast(solved.requester_wait_minutes_median as {{ double }}) as requester_wait_minutes_median
    from grid
    left join created
        on grid.kpi_date = created.kpi_date and grid.channel = created.channel
    left join solved
        on grid.kpi_date = solved.kpi_date and grid.channel = solved.channel
    left join backlog
        on grid.kpi_date = backlog.kpi_date and grid.channel = backlog.channel
    left join surveys
        on grid.kpi_date = surveys.kpi_date and grid.channel = surveys.channel
    left join next_replies
        on grid.kpi_date = next_replies.kpi_date and grid.channel = next_replies.channel

)

select * from final
