{#- The two cumulative SLA instances measured, `requester_wait_time` (time in new, open
    and hold) and `agent_work_time` (time in new and open), from the ticket's status
    spells (int_ticket_status_spans: creation to the last solve, or to the as-of end while
    unsolved; solved, closed and, as the metric says, pending or hold time never count).
    Elapsed minutes are the counted spells in the policy's clock. The due time is when
    the counted time reaches the target: inside the counted spells, or, while running,
    projected from the as-of end as if the ticket stays in a counted status; null when
    reached under target. Incremental like int_sla_reply_time_measured. -#}
{{ incremental_by_ticket() }}

-- depends_on: {{ ref('int_tickets_touched') }}

with

policy_applied as (

    select * from {{ ref('int_sla_policy_applied') }}
    where metric in ('requester_wait_time', 'agent_work_time')

),

status_spans as (

    select * from {{ ref('int_ticket_status_spans') }}

),

instances as (

    select
        *,
        cast(round(target_minutes * 60000000) as bigint) as target_microseconds
    from policy_applied
    {% if is_incremental() %}
    where ticket_id in ({{ sla_tickets_to_measure('policy_applied') }})
    {% endif %}

),

counted_spans as (

    select
        instances.sla_event_id,
        instances.is_business_hours,
        instances.target_microseconds,
        status_spans.span_start_at,
        status_spans.span_end_at,
        case
            when instances.is_business_hours then status_spans.business_microseconds
            else status_spans.calendar_microseconds
        end as counted_microseconds
    from instances
    inner join status_spans
        on instances.ticket_id = status_spans.ticket_id
    where status_spans.status in ('new', 'open')
        or (instances.metric = 'requester_wait_time' and status_spans.status = 'hold')

),

elapsed as (

    select
        sla_event_id,
        sum(counted_microseconds) as elapsed_microseconds
    from counted_spans
    group by 1

),

search_spans as (

    -- The counted spells, and for a running instance the time after the as-of end.
    select sla_event_id, is_business_hours, target_microseconds, span_start_at, span_end_at
    from counted_spans

    union all

    select
        sla_event_id,
        is_business_hours,
        target_microseconds,
        {{ as_of_end_at() }} as span_start_at,
        {{ sla_search_horizon_end(as_of_end_at(), 'target_minutes') }} as span_end_at
    from instances
    where reached_at is null

),

business_search_spans as (

    select * from search_spans
    where is_business_hours

),

search_pieces as (

    select
        business_pieces.sla_event_id,
        business_pieces.piece_start_at,
        business_pieces.piece_microseconds,
        business_search_spans.target_microseconds
    from ({{ business_hours_pieces('business_search_spans', ['sla_event_id', 'span_start_at']) }})
        as business_pieces
    inner join business_search_spans
        on business_pieces.sla_event_id = business_search_spans.sla_event_id
        and business_pieces.span_start_at = business_search_spans.span_start_at

    union all

    select
        sla_event_id,
        span_start_at as piece_start_at,
        {{ microseconds_between('span_start_at', 'span_end_at') }} as piece_microseconds,
        target_microseconds
    from search_spans
    where not is_business_hours

),

due as (

    {{ sla_due_at('search_pieces') }}

),

final as (

    select
        {{ sla_instance_columns('instances') }},
        case
            when instances.reached_at is null
                or coalesce(elapsed.elapsed_microseconds, 0) > instances.target_microseconds
                then due.sla_due_at
        end as sla_due_at,
        instances.reached_at,
        cast(
            coalesce(elapsed.elapsed_microseconds, 0) / 60000000.0 as {{ type_double() }}
        ) as elapsed_minutes,
        instances.loaded_at
    from instances
    left join elapsed
        on instances.sla_event_id = elapsed.sla_event_id
    left join due
        on instances.sla_event_id = due.sla_event_id

)

select * from final
