{#- Every instance of the two reply-time SLA metrics, from the public comments:
    `first_reply_time` starts at the ticket's creation and is reached by the first agent
    reply (int_tickets_timed); `next_reply_time` starts, once the first reply exists, at
    the oldest public comment by a non-agent (requester or another end user) made after
    the latest public agent reply, and is reached by the next public agent reply. Several
    such comments before the next agent reply make one instance; internal notes never
    count; comments before the first reply belong to first_reply_time. Comments are
    ordered by time, audit and event id. Holds no as-of date. Incremental: a run rebuilds
    only the tickets with events landed since the last run, each from all of its
    comments, and replaces them by ticket_id. -#}
{{ incremental_by_ticket() }}

-- depends_on: {{ ref('int_tickets_touched') }}

with

ticket_events as (

    select * from {{ ref('stg_helpdesk__ticket_events') }}

),

users as (

    select * from {{ ref('stg_helpdesk__users') }}

),

replies as (

    select * from {{ ref('int_ticket_replies') }}

),

tickets_timed as (

    select * from {{ ref('int_tickets_timed') }}

),

{% if is_incremental() %}

tickets_to_rebuild as (

    {{ tickets_touched_since_last_run() }}

),

{% endif %}

public_comments as (

    select
        ticket_events.ticket_id,
        ticket_events.ticket_event_id,
        ticket_events.occurred_at,
        ticket_events.audit_id,
        replies.ticket_event_id is not null as is_agent_reply,
        replies.ticket_event_id is null and not coalesce(users.is_agent, false)
            as is_end_user_comment,
        ticket_events.loaded_at
    from ticket_events
    left join replies
        on ticket_events.ticket_event_id = replies.ticket_event_id
    left join users
        on ticket_events.author_id = users.user_id
    where ticket_events.event_type = 'Comment'
        and ticket_events.is_public
    {% if is_incremental() %}
        and ticket_events.ticket_id in (select ticket_id from tickets_to_rebuild)
        {% endif %}

),

sequenced as (

    select
        *,
        -- The latest agent reply before this comment (null: none yet).
        max(case when is_agent_reply then occurred_at end) over (
            partition by ticket_id
            order by occurred_at, audit_id, ticket_event_id
            rows between unbounded preceding and 1 preceding
        ) as previous_reply_at,
        count(case when is_agent_reply then 1 end) over (
            partition by ticket_id
            order by occurred_at, audit_id, ticket_event_id
            rows between unbounded preceding and 1 preceding
        ) as replies_before,
        -- The next agent reply after this comment (null: none yet).
        min(case when is_agent_reply then occurred_at end) over (
            partition by ticket_id
            order by occurred_at, audit_id, ticket_event_id
            rows between 1 following and unbounded following
        ) as next_reply_at
    from public_comments

),

next_reply_starts as (

    -- The oldest end-user comment after each agent reply.
    select
        ticket_id,
        occurred_at as sla_started_at,
        next_reply_at as reached_at,
        row_number() over (
            partition by ticket_id, replies_before
            order by occurred_at, audit_id, ticket_event_id
        ) as comment_rank
    from sequenced
    where is_end_user_comment
        and replies_before > 0

),

ticket_loads as (

    select
        ticket_id,
        max(loaded_at) as loaded_at
    from ticket_events
    {% if is_incremental() %}
    where ticket_id in (select ticket_id from tickets_to_rebuild)
    {% endif %}
    group by 1

),

instances as (

    select
        tickets_timed.ticket_id,
        'first_reply_time' as metric,
        tickets_timed.created_at as sla_started_at,
        tickets_timed.first_reply_at as reached_at
    from tickets_timed
    {% if is_incremental() %}
    where tickets_timed.ticket_id in (select ticket_id from tickets_to_rebuild)
    {% endif %}

    union all

    select
        ticket_id,
        'next_reply_time' as metric,
        sla_started_at,
        reached_at
    from next_reply_starts
    where comment_rank = 1

),

final as (

    select
        instances.ticket_id,
        instances.metric,
        instances.sla_started_at,
        instances.reached_at,
        ticket_loads.loaded_at
    from instances
    inner join ticket_loads
        on instances.ticket_id = ticket_loads.ticket_id

)

select * from final
