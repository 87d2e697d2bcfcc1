{#- The reply-time SLA instances measured: minutes from the start to the reply (or to the
    as-of end while waiting) and the due time, both in the policy's clock. Calendar: the
    plain span, due `target_minutes` after the start. Business hours: the pieces of the
    span inside the default schedule's business hours (business_hours_pieces), due when
    they add up to the target (sla_due_at). Incremental: a run measures again the
    tickets whose instances or priority changed since the last run, every ticket with an
    instance still waiting for a reply (it runs to the as-of end), and every ticket whose
    rows hold a target the policy no longer has, and replaces them by ticket_id. -#}
{{ incremental_by_ticket() }}

-- depends_on: {{ ref('int_tickets_touched') }}

with

policy_applied as (

    select * from {{ ref('int_sla_policy_applied') }}
    where metric in ('first_reply_time', 'next_reply_time')

),

instances as (

    select * from policy_applied
    {% if is_incremental() %}
    where ticket_id in ({{ sla_tickets_to_measure('policy_applied') }})
    {% endif %}

),

measured_spans as (

    select
        sla_event_id,
        sla_started_at as span_start_at,
        coalesce(reached_at, {{ as_of_end_at() }}) as span_end_at
    from instances
    where is_business_hours

),

measured_pieces as (

    {{ business_hours_pieces('measured_spans', ['sla_event_id']) }}

),

business_elapsed as (

    select
        sla_event_id,
        sum(piece_microseconds) as elapsed_microseconds
    from measured_pieces
    group by 1

),

search_spans as (

    select
        sla_event_id,
        cast(round(target_minutes * 60000000) as bigint) as target_microseconds,
        sla_started_at as span_start_at,
        {{ sla_search_horizon_end('sla_started_at', 'target_minutes') }} as span_end_at
    from instances
    where is_business_hours

),

search_pieces as (

    select
        search_pieces.*,
        search_spans.target_microseconds
    from ({{ business_hours_pieces('search_spans', ['sla_event_id']) }}) as search_pieces
    inner join search_spans
        on search_pieces.sla_event_id = search_spans.sla_event_id

),

business_due as (

    {{ sla_due_at('search_pieces') }}

),

final as (

    select
        {{ sla_instance_columns('instances') }},
        case
            when instances.is_business_hours then business_due.sla_due_at
            else {{ add_microseconds(
                'instances.sla_started_at',
                'cast(round(instances.target_minutes * 60000000) as bigint)'
            ) }}
        end as sla_due_at,
        instances.reached_at,
        cast(
            case
                when instances.is_business_hours
                    then coalesce(business_elapsed.elapsed_microseconds, 0)
                else {{ microseconds_between(
                    'instances.sla_started_at',
                    'coalesce(instances.reached_at, ' ~ as_of_end_at() ~ ')'
                ) }}
            end / 60000000.0 as {{ type_double() }}
        ) as elapsed_minutes,
        instances.loaded_at
    from instances
    left join business_elapsed
        on instances.sla_event_id = business_elapsed.sla_event_id
    left join business_due
        on instances.sla_event_id = business_due.sla_event_id

)

select * from final
