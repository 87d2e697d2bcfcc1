-- Each ticket's calendar milestones: first reply, solves, reopens, replies, waiting time.
with

tickets as (

    select * from {{ ref('stg_helpdesk__tickets') }}

),

replies as (

    select * from {{ ref('int_ticket_replies') }}

),

status_changes as (

    select * from {{ ref('int_ticket_status_changes') }}

),

reply_summary as (

    select
        replies.ticket_id,
        min(replies.replied_at) as first_reply_at,
        count(*) as agent_reply_count
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
        sum(case when is_reopen then 1 else 0 end) as reopen_count
    from status_changes
    group by 1

),

waiting as (

    -- Calendar minutes in new, open or hold, up to the last solve while the ticket is
    -- solved or closed, else up to the end of the as-of date.
    select
        status_changes.ticket_id,
        sum(
            {{ minutes_between(
                'status_changes.changed_at',
                'least(coalesce(status_changes.next_changed_at, wait_end.wait_end_at), wait_end.wait_end_at)'
            ) }}
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
        coalesce(waiting.requester_wait_minutes, 0) as requester_wait_minutes
    from tickets
    left join reply_summary
        on tickets.ticket_id = reply_summary.ticket_id
    left join status_summary
        on tickets.ticket_id = status_summary.ticket_id
    left join waiting
        on tickets.ticket_id = waiting.ticket_id

)

select * from final
