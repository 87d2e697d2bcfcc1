{#- GA4's default channel grouping of every traffic source (source / medium / campaign)
    the sessions carry, after Google's published rules ("[GA4] Default channel group").
    The rules are data: seed ga4_channel_rules (one row per conjunction of conditions,
    in Google's order; a group with an OR has several rows) and seed
    ga4_source_categories (Google's lists of search, social, shopping and video sites).
    The first rule whose every non-null condition holds names the group; none: Unassigned.
    GA4 matches case-insensitively, so the text is lower-cased before matching.
    Grouped once per distinct source, not per session: a few dozen rows. -#}
with

web_sessions as (

    select * from {{ ref('int_web_sessions_aggregated') }}

),

channel_rules as (

    -- An empty cell is no condition, whether the CSV loader made it null or ''.
    select
        rule_order,
        channel_group,
        nullif(trim(source_category), '') as source_category,
        nullif(trim(source_pattern), '') as source_pattern,
        nullif(trim(medium_pattern), '') as medium_pattern,
        nullif(trim(campaign_pattern), '') as campaign_pattern
    from {{ ref('ga4_channel_rules') }}

),

source_categories as (

    select * from {{ ref('ga4_source_categories') }}

),

traffic_sources as (

    select distinct
        source,
        medium,
        campaign
    from web_sessions

),

normalized as (

    select
        traffic_sources.source,
        traffic_sources.medium,
        traffic_sources.campaign,
        lower(coalesce(traffic_sources.source, '')) as source_text,
        lower(coalesce(traffic_sources.medium, '')) as medium_text,
        lower(coalesce(traffic_sources.campaign, '')) as campaign_text,
        source_categories.source_category
    from traffic_sources
    left join source_categories
        on lower(traffic_sources.source) = lower(source_categories.source)

),

matched_rules as (

    select
        normalized.source,
        normalized.medium,
        normalized.campaign,
        channel_rules.channel_group,
        row_number() over (
            partition by normalized.source, normalized.medium, normalized.campaign
            order by channel_rules.rule_order
        ) as match_rank
    from normalized
    inner join channel_rules
        on (
            channel_rules.source_category is null
            or channel_rules.source_category = normalized.source_category
        )
        and (
            channel_rules.source_pattern is null
            or {{ regexp_contains('normalized.source_text', 'channel_rules.source_pattern') }}
        )
        and (
            channel_rules.medium_pattern is null
            or {{ regexp_contains('normalized.medium_text', 'channel_rules.medium_pattern') }}
        )
        and (
            channel_rules.campaign_pattern is null
            or {{ regexp_contains('normalized.campaign_text', 'channel_rules.campaign_pattern') }}
        )

),

final as (

    select
        normalized.source,
        normalized.medium,
        normalized.campaign,
        coalesce(matched_rules.channel_group, 'Unassigned') as default_channel_group
    from normalized
    left join matched_rules
        on normalized.source = matched_rules.source
        and normalized.medium = matched_rules.medium
        and coalesce(normalized.campaign, '') = coalesce(matched_rules.campaign, '')
        and matched_rules.match_rank = 1

)

select * from final
