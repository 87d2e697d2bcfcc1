{#- Each ticket's calendar milestones: first reply, solves, reopens, replies, waiting time.
    Incremental: a run rebuilds the tickets with a ticket version, status change or reply
    landed since the last run, plus every ticket not resolved yet (its waiting time runs
    up to the end of the as-of date, so it changes with var `as_of_date` alone), and
    replaces them by ticket_id. A resolved ticket's row holds no as-of date, so any
    as-of date, older ones included, gives the same rows as a full rebuild. -#}
{{ incremental_by_ticket() }}

-- depends_on: {{ ref('int_tickets_touched') }}

with

all_tickets as (

    select * from {{ ref('stg_helpdesk__tickets') }}

),

all_replies as (

    select * from {{ ref('int_ticket_replies') }}

),

all_status_changes as (

    select * from {{ ref('int_ticket_status_changes') }}

),

{% if is_incremental() %}

tickets_to_rebuild as (

    {{ tickets_touched_since_last_run() }}
    union
    select ticket_id from {{ this }} where resolved_at is null

),

tickets as (

    select * from all_tickets
    where ticket_id in (select ticket_id from tickets_to_rebuild)

),

replies as (

    select * from all_replies
    where ticket_id in (select ticket_id from tickets_to_rebuild)

),

status_changes as (

    select * from all_status_changes
    where ticket_id in (select ticket_id from tickets_to_rebuild)

),

{% else %}

tickets as (

    select * from all_tickets

),

replies as (

    select * from all_replies

),

status_changes as (

    select * from all_status_changes

),

{% endif %}

reply_summary as (

    select
        replies.ticket_id,
        min(replies.replied_at) as first_reply_at,
        count(*) as agent_reply_count,
        max(replies.loaded_at) as loaded_at
    from replies
    inner join tickets
        on replies.ticket_id = tickets.ticket_id
    where replies.replied_at >= tickets.created_at
    group by 1

),

status_summary as (

    select
        ticket_id,
        min(case when status = 'solved' then changed_at end) as first_solved_at,
        max(case when status = 'solved' then changed_at end) as last_solved_at,
        sum(case when is_reopen then 1 else 0 end) as reopen_count,
        max(loaded_at) as loaded_at
    from status_changes
    group by 1

),

waiting as (

    -- Calendar minutes in new, open or hold, up to the last solve while the ticket is
    -- solved or closed, else up to the end of the as-of date.
    select
        status_changes.ticket_id,
        cast(
            sum(
                {{ microseconds_between(
                    'status_changes.changed_at',
                    'least(coalesce(status_changes.next_changed_at, wait_end.wait_end_at), wait_end.wait_end_at)'
                ) }}
            ) / 60000000.0 as {{ type_double() }}
        ) as requester_wait_minutes
    from status_changes
    inner join (

        select
            tickets.ticket_id,
            case
                when tickets.status in ('solved', 'closed')
                    then coalesce(status_summary.last_solved_at, {{ as_of_end_at() }})
                else {{ as_of_end_at() }}
            end as wait_end_at
        from tickets
        left join status_summary
            on tickets.ticket_id = status_summary.ticket_id

    ) as wait_end
        on status_changes.ticket_id = wait_end.ticket_id
    where status_changes.status in ('new', 'open', 'hold')
        and status_changes.changed_at < wait_end.wait_end_at
    group by 1

),

final as (

    select
        tickets.ticket_id,
        tickets.created_at,
        tickets.status,
        reply_summary.first_reply_at,
        coalesce(reply_summary.agent_reply_count, 0) as agent_reply_count,
        status_summary.first_solved_at,
        status_summary.last_solved_at,
        coalesce(status_summary.reopen_count, 0) as reopen_count,
        case
            when tickets.status in ('solved', 'closed') then status_summary.last_solved_at
        end as resolved_at,
        coalesce(waiting.requester_wait_minutes, 0) as requester_wait_minutes,
        -- The latest landing this row is built from: later ones make it due again.
        greatest(
            tickets.loaded_at,
            coalesce(reply_summary.loaded_at, tickets.loaded_at),
            coalesce(status_summary.loaded_at, tickets.loaded_at)
        ) as loaded_at
    from tickets
    left join reply_summary
        on tickets.ticket_id = reply_summary.ticket_id
    left join status_summary
        on tickets.ticket_id = status_summary.ticket_id
    left join waiting
        on tickets.ticket_id = waiting.ticket_id

)

select * from final
