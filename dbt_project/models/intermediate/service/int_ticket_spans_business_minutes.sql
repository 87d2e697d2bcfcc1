{#- Business minutes of each ticket's spans (to first reply, to resolution, and so far
    for tickets still waiting for a reply), counted inside the default schedule's
    business-hours intervals in UTC. Incremental: a run measures again the tickets whose
    milestones were rebuilt from a landing since the last run, plus every ticket still
    waiting for a first reply (its span ends at the end of the as-of date), and replaces
    them by ticket_id. Answered and resolved spans hold no as-of date. -#}
{{ incremental_by_ticket() }}

-- depends_on: {{ ref('int_tickets_touched') }}

with

tickets_timed as (

    select * from {{ ref('int_tickets_timed') }}
    {% if is_incremental() %}
    where ticket_id in ({{ tickets_touched_since_last_run() }})
        or first_reply_at is null
    {% endif %}

),

spans as (

    select
        ticket_id, 'first_reply' as span_name, created_at as span_start_at,
        first_reply_at as span_end_at, loaded_at
    from tickets_timed
    where first_reply_at is not null

    union all

    select
        ticket_id, 'full_resolution' as span_name, created_at as span_start_at,
        resolved_at as span_end_at, loaded_at
    from tickets_timed
    where resolved_at is not null

    union all

    select
        ticket_id, 'awaiting_reply' as span_name, created_at as span_start_at,
        {{ as_of_end_at() }} as span_end_at, loaded_at
    from tickets_timed
    where first_reply_at is null

),

interval_overlaps as (

    {{ business_hours_pieces('spans', ['ticket_id', 'span_name']) }}

),

final as (

    select
        spans.ticket_id,
        spans.span_name,
        cast(
            coalesce(sum(interval_overlaps.piece_microseconds), 0) / 60000000.0
            as {{ type_double() }}
        ) as business_minutes,
        max(spans.loaded_at) as loaded_at
    from spans
    left join interval_overlaps
        on spans.ticket_id = interval_overlaps.ticket_id
        and spans.span_name = interval_overlaps.span_name
    group by 1, 2

)

select * from final
