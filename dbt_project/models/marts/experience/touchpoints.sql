-- The journey: every known interaction of every customer on one time line (web
-- sessions once stitched, orders, deliveries, tickets, survey answers).
{%- set text = dbt.type_string() %}

with

sessions as (

    select * from {{ ref('sessions') }}

),

orders as (

    select * from {{ ref('int_orders_enriched') }}

),

tickets as (

    select * from {{ ref('tickets') }}

),

survey_responses as (

    select * from {{ ref('int_survey_responses_linked') }}

),

web_session_touchpoints as (

    select
        'web_session' as touchpoint_type,
        session_key as source_id,
        customer_id,
        started_at as occurred_at,
        case
            when order_id is not null then 'purchase'
            when has_add_to_cart or has_checkout then 'consider'
            else 'discover'
        end as stage,
        {{ dbt.concat(["source", "' / '", "medium"]) }} as channel,
        {{ dbt.concat([
            "cast(page_views as " ~ text ~ ")", "' page views'",
            "case when has_checkout then ', checkout' when has_add_to_cart then ', add to cart' else '' end",
        ]) }} as detail
    from sessions
    where customer_id is not null

),

order_touchpoints as (

    select
        'order' as touchpoint_type,
        cast(order_id as {{ text }}) as source_id,
        customer_id,
        placed_at as occurred_at,
        'purchase' as stage,
        'shop' as channel,
        {{ dbt.concat([
            "order_status", "' '", "cast(total as " ~ text ~ ")", "' '", "currency",
        ]) }} as detail
    from orders

),

delivery_touchpoints as (

    select
        'delivery' as touchpoint_type,
        cast(order_id as {{ text }}) as source_id,
        customer_id,
        delivered_at as occurred_at,
        'deliver' as stage,
        'shipping' as channel,
        case
            when is_late_delivery
                then {{ dbt.concat(["'late by '", "cast(days_late as " ~ text ~ ")", "' days'"]) }}
            else 'on time'
        end as detail
    from orders
    where delivered_at is not null
        and is_counted

),

ticket_touchpoints as (

    select
        'ticket' as touchpoint_type,
        cast(ticket_id as {{ text }}) as source_id,
        customer_id,
        created_at as occurred_at,
        'support' as stage,
        channel,
        {{ dbt.concat([
            "status",
            "case when is_first_reply_sla_breached then ', first reply SLA breached' else '' end",
        ]) }} as detail
    from tickets
    where customer_id is not null

),

survey_touchpoints as (

    select
        'survey' as touchpoint_type,
        response_id as source_id,
        customer_id,
        submitted_at as occurred_at,
        'feedback' as stage,
        'survey' as channel,
        {{ dbt.concat(["survey_type", "' '", "cast(score as " ~ text ~ ")"]) }} as detail
    from survey_responses
    where customer_id is not null

),

unioned as (

    select * from web_session_touchpoints
    union all
    select * from order_touchpoints
    union all
    select * from delivery_touchpoints
    union all
    select * from ticket_touchpoints
    union all
    select * from survey_touchpoints

),

final as (

    select
        {{ dbt.concat(["touchpoint_type", "':'", "source_id"]) }} as touchpoint_id,
        customer_id,
        occurred_at,
        touchpoint_type,
        stage,
        channel,
        source_id,
        detail
    from unioned

)

select * from final
