{#- Every status a ticket took, with when it started and when the next one took over.
    Incremental: a run rebuilds only the tickets with events landed since the last run,
    each from all of its status events (a late event changes its neighbours' next
    status), and replaces them by ticket_id. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ticket_id',
        on_schema_change='append_new_columns',
    )
}}

with

ticket_events as (

    select * from {{ ref('stg_helpdesk__ticket_events') }}

),

status_events as (

    select
        ticket_id,
        ticket_event_id,
        occurred_at as changed_at,
        previous_value as previous_status,
        new_value as status,
        loaded_at
    from ticket_events
    where field_name = 'status'
        and event_type in ('Create', 'Change')
    {% if is_incremental() %}
        and ticket_id in (
            select ticket_id from ticket_events
            where loaded_at > {{ loaded_at_watermark(this) }}
        )
        {% endif %}

),

final as (

    select
        ticket_id,
        ticket_event_id,
        changed_at,
        previous_status,
        status,
        lead(changed_at) over (
            partition by ticket_id
            order by changed_at, ticket_event_id
        ) as next_changed_at,
        (
            previous_status = 'solved'
            and status in ('new', 'open', 'pending', 'hold')
        ) as is_reopen,
        loaded_at
    from status_events

)

select * from final
