{#- One row per GA4 session, stitched and attributed. Incremental by visitor: a run
    rebuilds every session of the devices (user_pseudo_id) something landed for since
    the last run (`loaded_at` watermark): a new or re-read session (the GA4 re-read
    window of int_web_sessions_aggregated), a new or moved stitching login, or a
    session that is gone (Google rewrote its day). All of a device's sessions, because
    stitching gives them one customer and attribution reads the device's earlier
    sessions. They replace the device's rows (delete+insert on user_pseudo_id); the
    post-hook drops sessions no longer built upstream. Nothing here depends on the data
    date. A change of the channel-grouping seeds needs `cxw run --full-refresh`. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='user_pseudo_id',
        on_schema_change='append_new_columns',
        post_hook=[
            "delete from {{ this }} where session_key not in ("
            ~ "select session_key from {{ ref('int_web_sessions_aggregated') }})"
        ],
    )
}}

with

web_sessions as (

    select * from {{ ref('int_web_sessions_aggregated') }}

),

web_visitors as (

    select * from {{ ref('int_web_visitors_stitched') }}

),

web_sessions_attributed as (

    select * from {{ ref('int_web_sessions_attributed') }}

),

{% if is_incremental() %}

{%- set watermark = loaded_at_watermark(this) %}

changed_visitors as (

    select user_pseudo_id from web_sessions
    where loaded_at > {{ watermark }}
    union
    select user_pseudo_id from web_visitors
    where loaded_at > {{ watermark }}
    union
    select previous.user_pseudo_id from {{ this }} as previous
    where not exists (
        select 1 from web_sessions
        where web_sessions.session_key = previous.session_key
    )

),

sessions_to_build as (

    select web_sessions.* from web_sessions
    where user_pseudo_id in (select user_pseudo_id from changed_visitors)

),

{% else %}

sessions_to_build as (

    select * from web_sessions

),

{% endif %}

final as (

    select
        sessions_to_build.session_key,
        sessions_to_build.user_pseudo_id,
        -- Stitched: the customer whose user_id this device ever carried, so sessions
        -- before the login belong to the customer too.
        coalesce(web_visitors.customer_id, sessions_to_build.logged_in_customer_id) as customer_id,
        sessions_to_build.started_at,
        sessions_to_build.ended_at,
        sessions_to_build.source,
        sessions_to_build.medium,
        sessions_to_build.campaign,
        sessions_to_build.landing_page,
        sessions_to_build.page_views,
        sessions_to_build.is_engaged,
        sessions_to_build.has_add_to_cart,
        sessions_to_build.has_checkout,
        sessions_to_build.order_id,
        sessions_to_build.has_view_item,
        sessions_to_build.has_purchase,
        cast(sessions_to_build.purchase_revenue as decimal(18, 2)) as purchase_revenue,
        sessions_to_build.device_category,
        web_sessions_attributed.default_channel_group,
        web_sessions_attributed.attributed_source,
        web_sessions_attributed.attributed_medium,
        web_sessions_attributed.attributed_campaign,
        web_sessions_attributed.attributed_channel_group,
        -- The latest landing this row reflects: the session's events or its device's
        -- stitching (the incremental watermark).
        greatest(sessions_to_build.loaded_at, coalesce(web_visitors.loaded_at, sessions_to_build.loaded_at))
            as loaded_at
    from sessions_to_build
    left join web_visitors
        on sessions_to_build.user_pseudo_id = web_visitors.user_pseudo_id
    left join web_sessions_attributed
        on sessions_to_build.session_key = web_sessions_attributed.session_key

)

select * from final
