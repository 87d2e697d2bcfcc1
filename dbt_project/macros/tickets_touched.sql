{#- The tickets an incremental ticket model (`this`) rebuilds: those with a landing after
    its own watermark (int_tickets_touched), but not the deleted ones (their rows go,
    drop_deleted_tickets). A `select ticket_id`, for `where ticket_id in (...)`. -#}
{% macro tickets_touched_since_last_run() -%}
    select ticket_id from {{ ref('int_tickets_touched') }}
    where loaded_at > {{ loaded_at_watermark(this) }}
        and not is_deleted
{%- endmacro %}

{#- Post-hook of the incremental ticket models: a ticket deleted in the helpdesk leaves
    them (delete+insert replaces only the tickets a batch has rows for, and a deleted
    ticket may have none). Run after full refreshes too, so both give the same rows.
    Reads the deleted tickets from stg_helpdesk__tickets (one row per ticket, its latest
    version), not from int_tickets_touched, which joins every audit event to its ticket:
    the same set (a ticket is deleted there exactly when its latest version is), for a
    read of the ticket versions alone in each of the eight models' post-hooks. -#}
{% macro drop_deleted_tickets() -%}
    delete from {{ this }}
    where ticket_id in (
        select ticket_id from {{ ref('stg_helpdesk__tickets') }}
        where is_deleted
    )
{%- endmacro %}
