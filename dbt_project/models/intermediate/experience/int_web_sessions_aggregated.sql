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

first_sources as (

    -- The session's traffic source is the first one an event of it collected.
    select
        session_key,
        event_source,
        event_medium,
        event_campaign,
        row_number() over (
            partition by session_key
            order by event_at, event_key
        ) as source_rank
    from session_events
    where event_source is not null

),

first_devices as (

    -- The session's device is that of its first event.
    select
        session_key,
        device_category,
        row_number() over (
            partition by session_key
            order by event_at, event_key
        ) as device_rank
    from session_events

),

landing_pages as (

    select
        session_key,
        page_location,
        row_number() over (
            partition by session_key
            order by event_at, event_key
        ) as page_rank
    from session_events
    where event_name = 'page_view'
        and page_location is not null

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
        max(loaded_at) as loaded_at
    from session_events
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
        coalesce(first_sources.event_source, '(direct)') as source,
        coalesce(first_sources.event_medium, '(none)') as medium,
        first_sources.event_campaign as campaign,
        landing_pages.page_location as landing_page,
        cast(aggregated.page_views as integer) as page_views,
        aggregated.is_engaged,
        aggregated.has_add_to_cart,
        aggregated.has_checkout,
        aggregated.has_purchase,
        aggregated.order_id,
        aggregated.has_view_item,
        first_devices.device_category,
        aggregated.purchase_revenue,
        aggregated.logged_in_customer_id,
        aggregated.loaded_at
    from aggregated
    left join first_sources
        on aggregated.session_key = first_sources.session_key
        and first_sources.source_rank = 1
    left join landing_pages
        on aggregated.session_key = landing_pages.session_key
        and landing_pages.page_rank = 1
    left join first_devices
        on aggregated.session_key = first_devices.session_key
        and first_devices.device_rank = 1

)

select * from final
