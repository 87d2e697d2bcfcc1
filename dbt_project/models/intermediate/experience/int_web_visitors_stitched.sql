{#- Identity stitching: a GA4 user_pseudo_id (one device/browser) that ever carried a
    user_id belongs to that customer, for all its sessions, the anonymous ones before
    the login included. A customer with two devices has two pseudo ids here. A device
    shared by two logged-in customers goes to the latest one.
    Incremental: only pseudo ids with a login landed since the last run are
    reconsidered, against the customer they were stitched to before. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='user_pseudo_id',
        on_schema_change='append_new_columns',
    )
}}

with

events as (

    select * from {{ ref('stg_web__events') }}

),

logins as (

    select
        user_pseudo_id,
        customer_id,
        event_at,
        event_key,
        loaded_at
    from events
    where customer_id is not null
    {% if is_incremental() %}
        -- The watermark is 1970 while no device has logged in yet (an empty model).
        and loaded_at > {{ loaded_at_watermark(this) }}
    {% endif %}

),

candidates as (

    select
        user_pseudo_id,
        customer_id,
        event_at as identified_at,
        event_key,
        loaded_at,
        min(event_at) over (partition by user_pseudo_id) as first_identified_at
    from logins

    {% if is_incremental() %}
    union all

    select
        previous.user_pseudo_id,
        previous.customer_id,
        previous.last_identified_at as identified_at,
        '' as event_key,
        previous.loaded_at,
        previous.first_identified_at
    from {{ this }} as previous
    where previous.user_pseudo_id in (select user_pseudo_id from logins)
    {% endif %}

),

ranked as (

    select
        *,
        min(first_identified_at) over (partition by user_pseudo_id) as first_login_at,
        max(loaded_at) over (partition by user_pseudo_id) as latest_loaded_at,
        row_number() over (
            partition by user_pseudo_id
            order by identified_at desc, event_key desc
        ) as login_rank
    from candidates

),

final as (

    select
        user_pseudo_id,
        customer_id,
        first_login_at as first_identified_at,
        identified_at as last_identified_at,
        latest_loaded_at as loaded_at
    from ranked
    where login_rank = 1

)

select * from final
