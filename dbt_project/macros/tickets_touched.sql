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
    ticket may have none). Run after full refreshes too, so both give the same rows. -#}
{% macro drop_deleted_tickets() -%}
    delete from {{ this }}
    where ticket_id in (
        select ticket_id from {{ ref('int_tickets_touched') }}
        where is_deleted
    )
{%- endmacro %}
