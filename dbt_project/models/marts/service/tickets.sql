-- One row per ticket, rebuilt whole each run from one row per ticket (no events): the
-- work over events before it (events, status history, replies, milestones, business
-- minutes, status spells, SLA instances) is incremental, and joining the current users,
-- groups, customers, SLA targets and survey answers here means a changed email, group,
-- target or a late survey answer shows on old tickets too, as in a full rebuild.
{%- set double = type_double() %}

with

tickets as (

    -- A deleted ticket leaves the marts: every count (daily_kpis, agents, customers)
    -- starts from this table.
    select * from {{ ref('stg_helpdesk__tickets') }}
    where is_deleted is not true

),

tickets_timed as (

    select * from {{ ref('int_tickets_timed') }}

),

business_minutes as (

    select * from {{ ref('int_ticket_spans_business_minutes') }}

),

groups as (

    select * from {{ ref('stg_helpdesk__groups') }}

),

users as (

    select * from {{ ref('stg_helpdesk__users') }}

),

customer_emails as (

    select * from {{ ref('int_customer_emails_matched') }}

),

sla_policy_metrics as (

    select * from {{ ref('stg_helpdesk__sla_policy_metrics') }}

),

survey_responses as (

    select * from {{ ref('int_survey_responses_linked') }}

),

status_spans as (

    select * from {{ ref('int_ticket_status_spans') }}

),

sla_events as (

    select * from {{ ref('sla_events') }}

),

state_time as (

    -- Time in each status from creation to the last solve (or the as-of end while
    -- unsolved), summed in whole microseconds.
    select
        ticket_id,
        sum(case when status in ('new', 'open', 'hold') then business_microseconds else 0 end)
            as requester_wait_business_microseconds,
        sum(case when status in ('new', 'open') then calendar_microseconds else 0 end)
            as agent_work_microseconds,
        sum(case when status in ('new', 'open') then business_microseconds else 0 end)
            as agent_work_business_microseconds,
        sum(case when status = 'hold' then calendar_microseconds else 0 end)
            as on_hold_microseconds,
        sum(case when status = 'pending' then calendar_microseconds else 0 end)
            as agent_wait_microseconds
    from status_spans
    group by 1

),

ticket_sla as (

    select
        ticket_id,
        sum(case when metric = 'next_reply_time' and is_breached then 1 else 0 end)
            as next_reply_sla_breach_count,
        {{ dbt.bool_or('is_breached') }} as is_any_sla_breached
    from sla_events
    group by 1

),

ticket_surveys as (

    -- The latest answer of each survey type per ticket.
    select
        ticket_id,
        max(case when survey_type = 'csat' and answer_rank = 1 then score end) as csat_score,
        {{ dbt.bool_or("case when survey_type = 'csat' and answer_rank = 1 then is_csat_satisfied end") }}
            as is_csat_satisfied,
        max(case when survey_type = 'ces' and answer_rank = 1 then score end) as ces_score
    from (

        select
            *,
            row_number() over (
                partition by ticket_id, survey_type
                order by submitted_at desc, response_id desc
            ) as answer_rank
        from survey_responses
        where ticket_id is not null
            and survey_type in ('csat', 'ces')

    ) as ranked
    group by 1

),

first_reply_targets as (

    select
        priority,
        min(target_minutes) as target_minutes,
        {{ dbt.bool_or('is_business_hours') }} as is_business_hours
    from sla_policy_metrics
    where metric = 'first_reply_time'
    group by 1

),

spans as (

    select
        ticket_id,
        max(case when span_name = 'first_reply' then business_minutes end)
            as first_reply_business_minutes,
        max(case when span_name = 'full_resolution' then business_minutes end)
            as full_resolution_business_minutes,
        max(case when span_name = 'awaiting_reply' then business_minutes end)
            as awaiting_reply_business_minutes
    from business_minutes
    group by 1

),

measured as (

    select
        tickets.ticket_id,
        customer_emails.customer_id,
        tickets.order_id,
        tickets.channel,
        tickets.priority,
        tickets.status,
        groups.group_name,
        tickets.assignee_id,
        tickets.created_at,
        tickets_timed.first_reply_at,
        {{ minutes_between('tickets.created_at', 'tickets_timed.first_reply_at') }}
            as first_reply_minutes,
        spans.first_reply_business_minutes,
        tickets_timed.first_solved_at,
        tickets_timed.last_solved_at,
        {{ minutes_between('tickets.created_at', 'tickets_timed.resolved_at') }}
            as full_resolution_minutes,
        spans.full_resolution_business_minutes,
        tickets_timed.reopen_count,
        tickets_timed.agent_reply_count,
        tickets_timed.requester_wait_minutes,
        tickets.status in ('solved', 'closed') and tickets_timed.agent_reply_count = 1
            as is_one_touch_resolution,
        first_reply_targets.target_minutes as first_reply_sla_target_minutes,
        first_reply_targets.is_business_hours as is_first_reply_sla_business_hours,
        case
            when tickets_timed.first_reply_at is null
                and first_reply_targets.is_business_hours
                then spans.awaiting_reply_business_minutes
            when tickets_timed.first_reply_at is null
                then {{ minutes_between('tickets.created_at', as_of_end_at()) }}
        end as awaiting_reply_minutes_for_sla,
        ticket_surveys.csat_score,
        ticket_surveys.is_csat_satisfied,
        ticket_surveys.ces_score,
        tickets.satisfaction_rating,
        ticket_sla.next_reply_sla_breach_count,
        state_time.requester_wait_business_microseconds / 60000000.0 as requester_wait_business_minutes,
        state_time.agent_work_microseconds / 60000000.0 as agent_work_minutes,
        state_time.agent_work_business_microseconds / 60000000.0 as agent_work_business_minutes,
        state_time.on_hold_microseconds / 60000000.0 as on_hold_minutes,
        state_time.agent_wait_microseconds / 60000000.0 as agent_wait_minutes,
        {{ minutes_between('tickets.created_at', 'tickets_timed.first_solved_at') }}
            as first_resolution_minutes,
        ticket_sla.is_any_sla_breached
    from tickets
    inner join tickets_timed
        on tickets.ticket_id = tickets_timed.ticket_id
    left join spans
        on tickets.ticket_id = spans.ticket_id
    left join groups
        on tickets.group_id = groups.group_id
    left join users
        on tickets.requester_id = users.user_id
    left join customer_emails
        on users.email_normalized = customer_emails.email_normalized
    left join first_reply_targets
        on tickets.priority = first_reply_targets.priority
    left join ticket_surveys
        on tickets.ticket_id = ticket_surveys.ticket_id
    left join state_time
        on tickets.ticket_id = state_time.ticket_id
    left join ticket_sla
        on tickets.ticket_id = ticket_sla.ticket_id

),

final as (

    select
        ticket_id,
        customer_id,
        order_id,
        channel,
        priority,
        status,
        group_name,
        assignee_id,
        created_at,
        first_reply_at,
        cast(first_reply_minutes as {{ double }}) as first_reply_minutes,
        cast(first_reply_business_minutes as {{ double }}) as first_reply_business_minutes,
        first_solved_at,
        last_solved_at,
        cast(full_resolution_minutes as {{ double }}) as full_resolution_minutes,
        cast(full_resolution_business_minutes as {{ double }}) as full_resolution_business_minutes,
        cast(reopen_count as integer) as reopen_count,
        cast(agent_reply_count as integer) as agent_reply_count,
        cast(requester_wait_minutes as {{ double }}) as requester_wait_minutes,
        is_one_touch_resolution,
        cast(first_reply_sla_target_minutes as {{ double }}) as first_reply_sla_target_minutes,
        case
            when first_reply_sla_target_minutes is null then null
            when first_reply_at is not null and is_first_reply_sla_business_hours
                then first_reply_business_minutes > first_reply_sla_target_minutes
            when first_reply_at is not null
                then first_reply_minutes > first_reply_sla_target_minutes
            else awaiting_reply_minutes_for_sla > first_reply_sla_target_minutes
        end as is_first_reply_sla_breached,
        cast(csat_score as integer) as csat_score,
        is_csat_satisfied,
        cast(ces_score as integer) as ces_score,
        satisfaction_rating,
        cast(next_reply_sla_breach_count as integer) as next_reply_sla_breach_count,
        cast(requester_wait_business_minutes as {{ double }}) as requester_wait_business_minutes,
        cast(agent_work_minutes as {{ double }}) as agent_work_minutes,
        cast(agent_work_business_minutes as {{ double }}) as agent_work_business_minutes,
        cast(on_hold_minutes as {{ double }}) as on_hold_minutes,
        cast(agent_wait_minutes as {{ double }}) as agent_wait_minutes,
        cast(first_resolution_minutes as {{ double }}) as first_resolution_minutes,
        is_any_sla_breached
    from measured

)

select * from final
