-- One row per agent or admin, measured over the tickets assigned to them now.
{%- set double = type_double() %}

with

users as (

    select * from {{ ref('stg_helpdesk__users') }}

),

tickets as (

    select * from {{ ref('tickets') }}

),

sla_events as (

    select * from {{ ref('sla_events') }}

),

next_replies as (

    -- Next-reply SLA instances on the tickets assigned to the agent now.
    select
        tickets.assignee_id,
        avg(case when sla_events.is_breached then 1.0 else 0.0 end) as next_reply_sla_breach_rate
    from sla_events
    inner join tickets
        on sla_events.ticket_id = tickets.ticket_id
    where sla_events.metric = 'next_reply_time'
        and tickets.assignee_id is not null
    group by 1

),

agent_groups as (

    -- An agent's group is the group most of their tickets are in.
    select
        assignee_id,
        group_name
    from (

        select
            assignee_id,
            group_name,
            row_number() over (
                partition by assignee_id
                order by count(*) desc, group_name
            ) as group_rank
        from tickets
        where assignee_id is not null and group_name is not null
        group by 1, 2

    ) as ranked
    where group_rank = 1

),

ticket_measures as (

    select
        assignee_id,
        sum(case when full_resolution_minutes is not null then 1 else 0 end) as tickets_solved,
        percentile_cont(0.5) within group (order by first_reply_minutes)
            as first_reply_minutes_median,
        percentile_cont(0.5) within group (order by full_resolution_minutes)
            as full_resolution_minutes_median,
        (
            100.0 * sum(case when is_csat_satisfied then 1 else 0 end)
            / nullif(count(csat_score), 0)
        ) as csat_pct,
        avg(
            case
                when full_resolution_minutes is not null and is_one_touch_resolution then 1.0
                when full_resolution_minutes is not null then 0.0
            end
        ) as one_touch_resolution_rate,
        avg(case when is_any_sla_breached then 1.0 when not is_any_sla_breached then 0.0 end)
            as sla_breach_rate,
        percentile_cont(0.5) within group (
            order by case when full_resolution_minutes is not null then requester_wait_minutes end
        ) as requester_wait_minutes_median
    from tickets
    where assignee_id is not null
    group by 1

),

final as (

    select
        users.user_id as agent_id,
        users.user_name as agent_name,
        agent_groups.group_name,
        cast(coalesce(ticket_measures.tickets_solved, 0) as bigint) as tickets_solved,
        cast(ticket_measures.first_reply_minutes_median as {{ double }}) as first_reply_minutes_median,
        cast(ticket_measures.full_resolution_minutes_median as {{ double }})
            as full_resolution_minutes_median,
        cast(ticket_measures.csat_pct as {{ double }}) as csat_pct,
        cast(ticket_measures.one_touch_resolution_rate as {{ double }}) as one_touch_resolution_rate,
        cast(next_replies.next_reply_sla_breach_rate as {{ double }}) as next_reply_sla_breach_rate,
        cast(ticket_measures.sla_breach_rate as {{ double }}) as sla_breach_rate,
        cast(ticket_measures.requester_wait_minutes_median as {{ double }})
            as requester_wait_minutes_median
    from users
    left join agent_groups
        on users.user_id = agent_groups.assignee_id
    left join ticket_measures
        on users.user_id = ticket_measures.assignee_id
    left join next_replies
        on users.user_id = next_replies.assignee_id
    where users.is_agent

)

select * from final
