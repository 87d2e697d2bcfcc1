{#- The configuration of every incremental ticket-level service model, declared once: a
    run rebuilds the tickets it selects and replaces them by ticket_id (delete+insert),
    and afterwards drops every ticket that came back deleted, so a deleted ticket leaves
    the model however it was built (incremental or full refresh). -#}
{% macro incremental_by_ticket() %}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ticket_id',
        on_schema_change='append_new_columns',
        post_hook='{{ drop_deleted_tickets() }}',
    ) }}
{% endmacro %}
