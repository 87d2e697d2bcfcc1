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

final as (

    select
        web_sessions.session_key,
        web_sessions.user_pseudo_id,
        -- Stitched: the customer whose user_id this device ever carried, so sessions
        -- before the login belong to the customer too.
        coalesce(web_visitors.customer_id, web_sessions.logged_in_customer_id) as customer_id,
        web_sessions.started_at,
        web_sessions.ended_at,
        web_sessions.source,
        web_sessions.medium,
        web_sessions.campaign,
        web_sessions.landing_page,
        web_sessions.page_views,
        web_sessions.is_engaged,
        web_sessions.has_add_to_cart,
        web_sessions.has_checkout,
        web_sessions.order_id,
        web_sessions.has_view_item,
        web_sessions.has_purchase,
        cast(web_sessions.purchase_revenue as decimal(18, 2)) as purchase_revenue,
        web_sessions.device_category,
        web_sessions_attributed.default_channel_group,
        web_sessions_attributed.attributed_source,
        web_sessions_attributed.attributed_medium,
        web_sessions_attributed.attributed_campaign,
        web_sessions_attributed.attributed_channel_group
    from web_sessions
    left join web_visitors
        on web_sessions.user_pseudo_id = web_visitors.user_pseudo_id
    left join web_sessions_attributed
        on web_sessions.session_key = web_sessions_attributed.session_key

)

select * from final
