-- One row per UTC day and ticket not yet solved or closed at the end of that day: its
-- status, priority, channel, group and assignee as they stood then (from the status and
-- field histories, incremental upstream), and its age in days. Days run from the
-- creation date to the as-of date; a ticket solved or closed by a day's end has no row
-- that day, deleted tickets (gone from the tickets) none at all. A table rebuilt whole
-- each run: a day's row changes whenever any later-landed event rewrites that day, and
-- the work is linear in the rows.
with

tickets as (

    -- A deleted ticket leaves the service marts (as in service.tickets).
    select * from {{ ref('stg_helpdesk__tickets') }}
    where is_deleted is not true

),

status_changes as (

    select * from {{ ref('int_ticket_status_changes') }}

),

field_history as (

    select * from {{ ref('int_ticket_field_history') }}

),

groups as (

    select * from {{ ref('stg_helpdesk__groups') }}

),

date_bounds as (

    select
        cast(min(created_at) as date) as first_date,
        cast('{{ as_of_date() }}' as date) as last_date
    from tickets

),

dates as (

    {{ days_between_series('date_bounds', 'first_date', 'last_date', 'backlog_date') }}

),

open_spells as (

    -- Each spell not solved or closed, as the days whose end falls inside it: a state
    -- holds at the end of day d when it began before d + 1 00:00 and the next one began
    -- at or after it. Only open days are made, so the work grows with the backlog.
    select
        tickets.ticket_id,
        tickets.channel,
        tickets.created_at,
        status_changes.status,
        cast(greatest(status_changes.changed_at, tickets.created_at) as date) as first_date,
        least(
            cast({{ dbt.dateadd('day', -1, 'status_changes.next_changed_at') }} as date),
            cast('{{ as_of_date() }}' as date)
        ) as last_date
    from tickets
    inner join status_changes
        on tickets.ticket_id = status_changes.ticket_id
    where status_changes.status not in ('solved', 'closed')

),

ticket_days as (

    select
        open_spells.ticket_id,
        open_spells.channel,
        open_spells.created_at,
        open_spells.status,
        dates.backlog_date,
        {{ dbt.dateadd('day', 1, 'cast(dates.backlog_date as timestamp)') }} as day_end_at
    from open_spells
    inner join dates
        on dates.backlog_date >= open_spells.first_date
        and (open_spells.last_date is null or dates.backlog_date <= open_spells.last_date)

),

fields as (

    select
        ticket_days.ticket_id,
        ticket_days.backlog_date,
        max(case when field_history.field_name = 'priority' then field_history.field_value end)
            as priority,
        max(case when field_history.field_name = 'group_id' then field_history.field_value end)
            as group_id,
        max(case when field_history.field_name = 'assignee_id' then field_history.field_value end)
            as assignee_id
    from ticket_days
    inner join field_history
        on ticket_days.ticket_id = field_history.ticket_id
        and field_history.valid_from < ticket_days.day_end_at
        and (field_history.valid_to is null or field_history.valid_to >= ticket_days.day_end_at)
    group by 1, 2

),

fields_recorded as (

    -- Which fields each ticket has a history of; a ticket without one (no Create event
    -- for the field) shows its current value.
    select
        ticket_id,
        max(case when field_name = 'priority' then 1 else 0 end) = 1 as has_priority,
        max(case when field_name = 'group_id' then 1 else 0 end) = 1 as has_group,
        max(case when field_name = 'assignee_id' then 1 else 0 end) = 1 as has_assignee
    from field_history
    group by 1

),

day_fields as (

    select
        ticket_days.ticket_id,
        ticket_days.backlog_date,
        case
            when coalesce(fields_recorded.has_priority, false) then fields.priority
            else tickets.priority
        end as priority,
        case
            when coalesce(fields_recorded.has_group, false)
                then cast({{ dbt.safe_cast('fields.group_id', api.Column.translate_type('bigint')) }} as bigint)
            else tickets.group_id
        end as group_id,
        case
            when coalesce(fields_recorded.has_assignee, false)
                then cast({{ dbt.safe_cast('fields.assignee_id', api.Column.translate_type('bigint')) }} as bigint)
            else tickets.assignee_id
        end as assignee_id
    from ticket_days
    inner join tickets
        on ticket_days.ticket_id = tickets.ticket_id
    left join fields
        on ticket_days.ticket_id = fields.ticket_id
        and ticket_days.backlog_date = fields.backlog_date
    left join fields_recorded
        on ticket_days.ticket_id = fields_recorded.ticket_id

),

final as (

    select
        ticket_days.backlog_date as date,
        ticket_days.ticket_id,
        ticket_days.status,
        day_fields.priority,
        ticket_days.channel,
        groups.group_name,
        cast(day_fields.assignee_id as bigint) as assignee_id,
        cast(
            {{ dbt.datediff('cast(ticket_days.created_at as date)', 'ticket_days.backlog_date', 'day') }}  -- noqa: LT05
            as integer
        ) as age_days
    from ticket_days
    inner join day_fields
        on ticket_days.ticket_id = day_fields.ticket_id
        and ticket_days.backlog_date = day_fields.backlog_date
    left join groups
        on day_fields.group_id = groups.group_id

)

select * from final
