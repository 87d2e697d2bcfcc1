{#- Last non-direct attribution after GA4: a session that is not Direct keeps its own
    source; a Direct one takes the source, medium, campaign and channel group of the
    same visitor's (user_pseudo_id) latest earlier non-direct session that started at
    most 90 x 24 hours before it; none: (direct) / (none). "Direct" is the default
    channel group (int_web_traffic_sources_grouped), the one definition of it. -#}

{%- set lookback_hours = 90 * 24 -%}

with

web_sessions as (

    select * from {{ ref('int_web_sessions_aggregated') }}

),

traffic_sources as (

    select * from {{ ref('int_web_traffic_sources_grouped') }}

),

grouped_sessions as (

    select
        web_sessions.session_key,
        web_sessions.user_pseudo_id,
        web_sessions.started_at,
        web_sessions.source,
        web_sessions.medium,
        web_sessions.campaign,
        coalesce(traffic_sources.default_channel_group, 'Unassigned') as default_channel_group
    from web_sessions
    left join traffic_sources
        on web_sessions.source = traffic_sources.source
        and web_sessions.medium = traffic_sources.medium
        and coalesce(web_sessions.campaign, '') = coalesce(traffic_sources.campaign, '')

),

earlier_non_direct as (

    -- For each Direct session, the visitor's non-direct sessions of the 90 days before.
    select
        direct_sessions.session_key,
        earlier.source,
        earlier.medium,
        earlier.campaign,
        earlier.default_channel_group,
        row_number() over (
            partition by direct_sessions.session_key
            order by earlier.started_at desc, earlier.session_key desc
        ) as recency_rank
    from grouped_sessions as direct_sessions
    inner join grouped_sessions as earlier
        on direct_sessions.user_pseudo_id = earlier.user_pseudo_id
        and earlier.started_at < direct_sessions.started_at
        and earlier.started_at >= {{ dbt.dateadd('hour', -lookback_hours, 'direct_sessions.started_at') }}
        and earlier.default_channel_group <> 'Direct'
    where direct_sessions.default_channel_group = 'Direct'

),

final as (

    select
        grouped_sessions.session_key,
        grouped_sessions.default_channel_group,
        case
            when grouped_sessions.default_channel_group <> 'Direct' then grouped_sessions.source
            else coalesce(earlier_non_direct.source, '(direct)')
        end as attributed_source,
        case
            when grouped_sessions.default_channel_group <> 'Direct' then grouped_sessions.medium
            else coalesce(earlier_non_direct.medium, '(none)')
        end as attributed_medium,
        case
            when grouped_sessions.default_channel_group <> 'Direct' then grouped_sessions.campaign
            else earlier_non_direct.campaign
        end as attributed_campaign,
        case
            when grouped_sessions.default_channel_group <> 'Direct'
                then grouped_sessions.default_channel_group
            else coalesce(earlier_non_direct.default_channel_group, 'Direct')
        end as attributed_channel_group
    from grouped_sessions
    left join earlier_non_direct
        on grouped_sessions.session_key = earlier_non_direct.session_key
        and earlier_non_direct.recency_rank = 1

)

select * from final
