{#- Incremental: ticket history only grows, so a run reads only the batches landed after
    the latest one already built and replaces their events by id (delete+insert on
    ticket_event_id): an event sent again in a later batch keeps its latest version,
    as in a full rebuild. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ticket_event_id',
        on_schema_change='append_new_columns',
    )
}}

with

source as (

    select * from {{ source('helpdesk', 'ticket_events') }}
    -- An audit without child events lands as one row with empty child columns.
    where child_id is not null
    {% if is_incremental() %}
        and _loaded_at > {{ loaded_at_watermark(this) }}
    {% endif %}

),

latest as (

    -- Incremental exports repeat events across pages and windows: one row per child id.
    {{ latest_version('source', 'child_id', '_loaded_at desc, _batch_id desc') }}

),

final as (

    select
        child_id as ticket_event_id,
        audit_id,
        ticket_id,
        {{ to_utc('created_at') }} as occurred_at,
        updater_id,
        via_channel,
        child_type as event_type,
        field_name,
        value as new_value,
        previous_value,
        coalesce(is_public, false) as is_public,
        author_id,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest

)

select * from final
