{#- Each spell a ticket spent in one status, cut to the ticket's measured life: from its
    creation to its last solve while it is solved or closed, else to the end of the as-of
    date. Calendar and business time (the default schedule, as everywhere) of each spell, in
    whole microseconds (exact sums in any order): the sums behind requester wait, agent work, hold and pending time. Incremental
    like int_tickets_timed: a run rebuilds the tickets whose milestones changed since the
    last run plus every unresolved ticket (its last spell runs to the as-of end), and
    replaces them by ticket_id. A resolved ticket's spells hold no as-of date. -#}
{{ incremental_by_ticket() }}

-- depends_on: {{ ref('int_tickets_touched') }}

with

tickets_timed as (

    select * from {{ ref('int_tickets_timed') }}
    {% if is_incremental() %}
    where ticket_id in ({{ tickets_touched_since_last_run() }})
        or resolved_at is null
    {% endif %}

),

status_changes as (

    select * from {{ ref('int_ticket_status_changes') }}

),

measured_life as (

    select
        ticket_id,
        created_at,
        coalesce(resolved_at, {{ as_of_end_at() }}) as measure_end_at,
        resolved_at is null as is_unresolved,
        loaded_at
    from tickets_timed

),

spans as (

    select
        status_changes.ticket_id,
        status_changes.ticket_event_id,
        status_changes.status,
        greatest(status_changes.changed_at, measured_life.created_at) as span_start_at,
        least(
            coalesce(status_changes.next_changed_at, measured_life.measure_end_at),
            measured_life.measure_end_at
        ) as span_end_at,
        measured_life.is_unresolved,
        measured_life.loaded_at
    from status_changes
    inner join measured_life
        on status_changes.ticket_id = measured_life.ticket_id
    where status_changes.changed_at < measured_life.measure_end_at
        and (
            coalesce(status_changes.next_changed_at, measured_life.measure_end_at)
            > measured_life.created_at
        )

),

business_pieces as (

    {{ business_hours_pieces('spans', ['ticket_event_id']) }}

),

business_spans as (

    select
        ticket_event_id,
        sum(piece_microseconds) as business_microseconds
    from business_pieces
    group by 1

),

final as (

    select
        spans.ticket_id,
        spans.ticket_event_id,
        spans.status,
        spans.span_start_at,
        spans.span_end_at,
        {{ microseconds_between('spans.span_start_at', 'spans.span_end_at') }} as calendar_microseconds,
        cast(coalesce(business_spans.business_microseconds, 0) as bigint) as business_microseconds,
        spans.is_unresolved and spans.span_end_at = {{ as_of_end_at() }} as is_running,
        spans.loaded_at
    from spans
    left join business_spans
        on spans.ticket_event_id = business_spans.ticket_event_id

)

select * from final
