{#- One row per GA4 session. Incremental: a run rebuilds only the sessions with an
    event on the last `lookback_days` event dates already built or landed since the
    last run, each from all of its events (a session can cross midnight, so the day
    before the earliest changed event is read too), and replaces them by session_key.
    The bounds are literal values (`web_sessions_rebuild_bounds`), so only the events
    from the first changed day on are read. A re-read day can also hold fewer sessions
    than before (Google rewrote it): the pre-hook deletes the sessions of those days
    that no longer have any event, as a full rebuild would not have them (a session
    whose first event is before `read_from` keeps its events of the days not re-read). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='session_key',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_vanished_web_sessions(this, ref('stg_web__events')) }}",
    )
}}

{%- set lookback_days = var('web_reread_days') -%}

with

events as (

    select * from {{ ref('stg_web__events') }}
    where session_key is not null

),

{% if is_incremental() %}
{%- set bounds = web_sessions_rebuild_bounds(this, ref('stg_web__events'), lookback_days) %}

changed_sessions as (

    select distinct session_key
    from events
    where event_date >= cast('{{ bounds.event_date }}' as date)
        or loaded_at > cast('{{ bounds.loaded_at }}' as {{ dbt.type_timestamp() }})

),

session_events as (

    select events.*
    from events
    inner join changed_sessions
        on events.session_key = changed_sessions.session_key
    {% if bounds.read_from %}
    where events.event_date >= cast('{{ bounds.read_from }}' as date)
    {% endif %}

),

{% else %}

session_events as (

    select * from events

),

{% endif %}

events_in_session_order as (

    -- Each event with its session's first traffic source, landing page and device.
    select
        *,
        {{ web_session_firsts('session_order') }}
    from session_events
    window session_order as (
        partition by session_key
        order by event_at, event_key
        rows between unbounded preceding and unbounded following
    )

),

aggregated as (

    select
        session_key,
        min(user_pseudo_id) as user_pseudo_id,
        min(ga_session_id) as ga_session_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        min(event_date) as first_event_date,
        max(event_date) as last_event_date,
        sum(case when event_name = 'page_view' then 1 else 0 end) as page_views,
        max(case when is_session_engaged then 1 else 0 end) = 1 as is_engaged,
        max(case when event_name = 'view_item' then 1 else 0 end) = 1 as has_view_item,
        max(case when event_name = 'add_to_cart' then 1 else 0 end) = 1 as has_add_to_cart,
        max(case when event_name = 'begin_checkout' then 1 else 0 end) = 1 as has_checkout,
        max(case when event_name = 'purchase' then 1 else 0 end) = 1 as has_purchase,
        max(case when event_name = 'purchase' then order_id end) as order_id,
        sum(case when event_name = 'purchase' then purchase_revenue end) as purchase_revenue,
        max(customer_id) as logged_in_customer_id,
        max(loaded_at) as loaded_at,
        -- The same on every event of the session.
        min(first_source) as first_source,
        min(first_medium) as first_medium,
        min(first_campaign) as first_campaign,
        min(first_page_location) as landing_page,
        min(first_device_category) as device_category
    from events_in_session_order
    group by 1

),

final as (

    select
        aggregated.session_key,
        aggregated.user_pseudo_id,
        aggregated.ga_session_id,
        aggregated.started_at,
        aggregated.ended_at,
        aggregated.first_event_date,
        aggregated.last_event_date,
        coalesce(aggregated.first_source, '(direct)') as source,
        coalesce(aggregated.first_medium, '(none)') as medium,
        aggregated.first_campaign as campaign,
        aggregated.landing_page,
        cast(aggregated.page_views as integer) as page_views,
        aggregated.is_engaged,
        aggregated.has_add_to_cart,
        aggregated.has_checkout,
        aggregated.has_purchase,
        aggregated.order_id,
        aggregated.has_view_item,
        aggregated.device_category,
        aggregated.purchase_revenue,
        aggregated.logged_in_customer_id,
        aggregated.loaded_at
    from aggregated

)

select * from final
