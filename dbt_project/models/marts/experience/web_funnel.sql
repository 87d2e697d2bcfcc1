-- The web funnel by day, channel and device: how many sessions reached each step. A
-- session counts on the UTC date it started, with its device (its first event's) and
-- its own default channel group.
with

sessions as (

    select * from {{ ref('sessions') }}

),

aggregated as (

    select
        cast(started_at as date) as session_date,
        default_channel_group,
        coalesce(device_category, '(not set)') as device_category,
        count(*) as sessions,
        sum(case when has_view_item then 1 else 0 end) as sessions_with_view_item,
        sum(case when has_add_to_cart then 1 else 0 end) as sessions_with_add_to_cart,
        sum(case when has_checkout then 1 else 0 end) as sessions_with_checkout,
        sum(case when has_purchase then 1 else 0 end) as sessions_with_purchase,
        sum(case when has_purchase then coalesce(purchase_revenue, 0) else 0 end)
            as purchase_revenue
    from sessions
    group by 1, 2, 3

),

final as (

    select
        session_date as date,
        default_channel_group,
        device_category,
        cast(sessions as integer) as sessions,
        cast(sessions_with_view_item as integer) as sessions_with_view_item,
        cast(sessions_with_add_to_cart as integer) as sessions_with_add_to_cart,
        cast(sessions_with_checkout as integer) as sessions_with_checkout,
        cast(sessions_with_purchase as integer) as sessions_with_purchase,
        cast(purchase_revenue as decimal(18, 2)) as purchase_revenue,
        cast(sessions_with_purchase * 1.0 / sessions as {{ type_double() }}) as conversion_rate
    from aggregated

)

select * from final
