{#- Public comments by agents or admins, not counting the comment that opened the ticket
    (the first comment of the ticket's first audit, which may be written by an agent on a
    phone ticket). Incremental: a run rebuilds only the tickets with events landed since
    the last run, each from all of its comments (numbering needs them all), and replaces
    them by ticket_id. -#}
{{ incremental_by_ticket() }}

-- depends_on: {{ ref('int_tickets_touched') }}

with

ticket_events as (

    select * from {{ ref('stg_helpdesk__ticket_events') }}

),

users as (

    select * from {{ ref('stg_helpdesk__users') }}

),

comments as (

    select
        *,
        row_number() over (
            partition by ticket_id
            order by occurred_at, audit_id, ticket_event_id
        ) as comment_number
    from ticket_events
    where event_type = 'Comment'
    {% if is_incremental() %}
        and ticket_id in ({{ tickets_touched_since_last_run() }})
        {% endif %}

),

final as (

    select
        comments.ticket_id,
        comments.ticket_event_id,
        comments.author_id as agent_id,
        comments.occurred_at as replied_at,
        comments.loaded_at
    from comments
    inner join users
        on comments.author_id = users.user_id
    where comments.comment_number > 1
        and comments.is_public
        and users.is_agent

)

select * from final
