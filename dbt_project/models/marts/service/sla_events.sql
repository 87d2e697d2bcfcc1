-- One row per SLA instance a ticket was held to: the four metrics of the policy matching
-- the ticket's priority (after Zendesk's SLA metrics). The measuring is incremental
-- upstream (int_sla_reply_time_measured, int_sla_status_time_measured, by ticket; deleted
-- tickets already left them); this table only puts them together and judges each
-- instance as of the end of the run's data date, so reruns of an old day give the same
-- rows.
{%- set double = type_double() %}

with

reply_time as (

    select * from {{ ref('int_sla_reply_time_measured') }}

),

status_time as (

    select * from {{ ref('int_sla_status_time_measured') }}

),

instances as (

    select * from reply_time
    union all
    select * from status_time

),

judged as (

    select
        *,
        (
            elapsed_minutes > target_minutes
            or (reached_at is null and sla_due_at < {{ as_of_end_at() }})
        ) as is_breached
    from instances

),

final as (

    select
        sla_event_id,
        ticket_id,
        priority,
        metric,
        cast(target_minutes as {{ double }}) as target_minutes,
        is_business_hours,
        sla_started_at,
        sla_due_at,
        reached_at,
        cast(elapsed_minutes as {{ double }}) as elapsed_minutes,
        coalesce(is_breached, false) as is_breached,
        reached_at is null and not coalesce(is_breached, false) as is_active
    from judged

)

select * from final
