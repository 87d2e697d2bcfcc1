{#- Incremental: GA4 history is large and only the last days change (Google rewrites a
    day for up to 72 hours). Each run re-reads the export days from `lookback_days`
    before the latest day already built, plus any day landed since the last run, and
    replaces those days whole (delete+insert on event_date): a rewritten day's dropped
    events disappear too, and a full rebuild gives the same rows. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_date',
        on_schema_change='append_new_columns',
    )
}}

{%- set lookback_days = var('web_reread_days') -%}

with

source as (

    select * from {{ source('web', 'events') }}
    {% if is_incremental() %}
    {%- set bounds = web_events_reread_bounds(this, lookback_days) %}
    -- The last days again (rewrites), and any day landed since the last run (late or
    -- re-landed older days); event_date text sorts like the date.
    where event_date >= '{{ bounds.event_date }}'
        or _loaded_at > cast('{{ bounds.loaded_at }}' as {{ dbt.type_timestamp() }})
    {% endif %}

),

latest_batch as (

    -- A re-landed day replaces its batch; should two batches still hold one day, only
    -- the latest landed one counts.
    select
        *,
        max(_loaded_at) over (partition by event_date) as latest_loaded_at,
        -- The params' keys once per event: each param below is found by position.
        {{ ga4_event_param_keys('event_params') }} as event_param_keys
    from source

),

flattened as (

    select
        {{ dbt.safe_cast(dbt.concat([
            "substring(event_date, 1, 4)", "'-'",
            "substring(event_date, 5, 2)", "'-'",
            "substring(event_date, 7, 2)",
        ]), 'date') }} as event_date,
        event_timestamp,
        event_name,
        user_pseudo_id,
        user_id,
        {{ ga4_event_param('ga_session_id', 'int', keys_column='event_param_keys') }} as ga_session_id,
        {{ ga4_event_param('ga_session_number', 'int', keys_column='event_param_keys') }} as ga_session_number,
        {{ ga4_event_param('session_engaged', 'text', keys_column='event_param_keys') }} as session_engaged,
        {{ ga4_event_param('engagement_time_msec', 'int', keys_column='event_param_keys') }} as engagement_time_msec,
        {{ ga4_event_param('page_location', 'string', keys_column='event_param_keys') }} as page_location,
        {{ ga4_event_param('page_referrer', 'string', keys_column='event_param_keys') }} as page_referrer,
        {{ ga4_event_param('page_title', 'string', keys_column='event_param_keys') }} as page_title,
        {{ nested_field('device', 'category') }} as device_category,
        {{ nested_field('device', 'operating_system') }} as device_operating_system,
        {{ nested_field('geo', 'country') }} as geo_country,
        {{ nested_field('traffic_source', 'source') }} as first_touch_source,
        {{ nested_field('traffic_source', 'medium') }} as first_touch_medium,
        {{ nested_field('traffic_source', 'name') }} as first_touch_campaign,
        {{ nested_field('collected_traffic_source', 'manual_source') }} as event_source,
        {{ nested_field('collected_traffic_source', 'manual_medium') }} as event_medium,
        {{ nested_field('collected_traffic_source', 'manual_campaign_name') }} as event_campaign,
        {{ nested_field('ecommerce', 'transaction_id') }} as transaction_id,
        {{ nested_field('ecommerce', 'purchase_revenue', type_double()) }} as purchase_revenue,
        stream_id,
        platform,
        _batch_id,
        _loaded_at
    from latest_batch
    where _loaded_at = latest_loaded_at

),

deduplicated as (

    -- GA4 has no event id: identical (visitor, time, name, session) events are one.
    select
        *,
        row_number() over (
            partition by user_pseudo_id, event_timestamp, event_name, ga_session_id
            order by _loaded_at desc, _batch_id desc
        ) as duplicate_rank
    from flattened

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "user_pseudo_id", "'|'",
            "cast(event_timestamp as " ~ dbt.type_string() ~ ")", "'|'",
            "event_name", "'|'",
            "coalesce(cast(ga_session_id as " ~ dbt.type_string() ~ "), '')",
        ])) }} as event_key,
        event_date,
        {{ timestamp_from_micros('event_timestamp') }} as event_at,
        event_name,
        user_pseudo_id,
        ga_session_id,
        case
            when ga_session_id is not null
                then {{ dbt.concat([
                    "user_pseudo_id", "'-'", "cast(ga_session_id as " ~ dbt.type_string() ~ ")",
                ]) }}
        end as session_key,
        ga_session_number,
        {{ dbt.safe_cast('user_id', api.Column.translate_type('bigint')) }} as customer_id,
        coalesce(session_engaged = '1', false) as is_session_engaged,
        engagement_time_msec,
        page_location,
        page_referrer,
        page_title,
        device_category,
        device_operating_system,
        geo_country,
        first_touch_source,
        first_touch_medium,
        first_touch_campaign,
        event_source,
        event_medium,
        event_campaign,
        {{ dbt.safe_cast("nullif(trim(transaction_id), '')", api.Column.translate_type('bigint')) }}
            as order_id,
        purchase_revenue,
        stream_id,
        platform,
        {{ to_utc('_loaded_at') }} as loaded_at
    from deduplicated
    where duplicate_rank = 1

)

select * from final
