{#- Every SLA instance a ticket is held to, with the policy metric that applies: the
    reply-time instances (int_sla_reply_time_instances) and, per ticket, one
    `requester_wait_time` and one `agent_work_time` instance from its creation, reached
    at its last solve while it is solved or closed. The priority is the one in force when
    the instance is reached (at the as-of end while running), from the priority history
    (the ticket's current priority when it has none): a reached instance keeps its
    target, a running one follows a priority change. An instance whose priority has no
    policy metric is left out. A view: the measuring models after it are incremental. -#}
with

reply_time_instances as (

    select * from {{ ref('int_sla_reply_time_instances') }}

),

tickets_timed as (

    select * from {{ ref('int_tickets_timed') }}

),

tickets as (

    select * from {{ ref('stg_helpdesk__tickets') }}

),

field_history as (

    select * from {{ ref('int_ticket_field_history') }}

),

sla_policy_metrics as (

    select * from {{ ref('stg_helpdesk__sla_policy_metrics') }}

),

policy_targets as (

    -- One target per priority and metric (the strictest, should two policies match).
    select
        priority,
        metric,
        min(target_minutes) as target_minutes,
        {{ dbt.bool_or('is_business_hours') }} as is_business_hours
    from sla_policy_metrics
    group by 1, 2

),

status_time_instances as (

    select
        tickets_timed.ticket_id,
        metrics.metric,
        tickets_timed.created_at as sla_started_at,
        tickets_timed.resolved_at as reached_at,
        tickets_timed.loaded_at
    from tickets_timed
    cross join (

        select 'requester_wait_time' as metric
        union all
        select 'agent_work_time' as metric

    ) as metrics

),

instances as (

    select ticket_id, metric, sla_started_at, reached_at, loaded_at
    from reply_time_instances

    union all

    select ticket_id, metric, sla_started_at, reached_at, loaded_at
    from status_time_instances

),

priority_history as (

    select
        ticket_id,
        field_value as priority,
        valid_from,
        valid_to,
        loaded_at
    from field_history
    where field_name = 'priority'

),

prioritised as (

    select
        instances.ticket_id,
        instances.metric,
        instances.sla_started_at,
        instances.reached_at,
        coalesce(priority_history.priority, tickets.priority) as priority,
        greatest(
            instances.loaded_at,
            coalesce(history_loads.loaded_at, instances.loaded_at)
        ) as loaded_at
    from instances
    inner join tickets
        on instances.ticket_id = tickets.ticket_id
    left join priority_history
        on instances.ticket_id = priority_history.ticket_id
        and priority_history.valid_from <= coalesce(instances.reached_at, {{ as_of_end_at() }})
        and (
            priority_history.valid_to is null
            or priority_history.valid_to > coalesce(instances.reached_at, {{ as_of_end_at() }})
        )
    left join (

        select ticket_id, max(loaded_at) as loaded_at
        from priority_history
        group by 1

    ) as history_loads
        on instances.ticket_id = history_loads.ticket_id

),

final as (

    select
        {{ dbt.concat([
            "cast(prioritised.ticket_id as " ~ dbt.type_string() ~ ")",
            "'|'",
            "prioritised.metric",
            "'|'",
            timestamp_key('prioritised.sla_started_at'),
        ]) }} as sla_event_id,
        prioritised.ticket_id,
        prioritised.priority,
        prioritised.metric,
        cast(policy_targets.target_minutes as {{ type_double() }}) as target_minutes,
        policy_targets.is_business_hours,
        prioritised.sla_started_at,
        prioritised.reached_at,
        prioritised.loaded_at
    from prioritised
    inner join policy_targets
        on prioritised.priority = policy_targets.priority
        and prioritised.metric = policy_targets.metric

)

select * from final
