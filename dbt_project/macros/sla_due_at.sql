{#- When counted time reaches an SLA target: from `pieces` (a relation or CTE with
    `sla_event_id`, `piece_start_at`, `piece_microseconds` and `target_microseconds`; the
    counted pieces of time of each instance, calendar spans or business-hours pieces from
    business_hours_pieces), the moment inside the piece where the running sum of counted
    time reaches the target. A target reached exactly at a piece's end is due at that end
    (17:00, not the next opening). Instances whose pieces never reach it have no row. -#}
{% macro sla_due_at(pieces) -%}
    select
        sla_event_id,
        {{ add_microseconds(
            'piece_start_at',
            'target_microseconds - (cumulative_microseconds - piece_microseconds)'
        ) }} as sla_due_at
    from (

        select
            sla_event_id,
            piece_start_at,
            piece_microseconds,
            target_microseconds,
            sum(piece_microseconds) over (
                partition by sla_event_id
                order by piece_start_at
                rows between unbounded preceding and current row
            ) as cumulative_microseconds
        from {{ pieces }}

    ) as running
    where cumulative_microseconds >= target_microseconds
        and cumulative_microseconds - piece_microseconds < target_microseconds
{%- endmacro %}

{#- How far ahead (days after `start`) a business-hours target of `target_minutes` is
    looked for: a day per business hour plus a month of holidays, at least one business
    hour a day assumed. -#}
{% macro sla_search_horizon_end(start, target_minutes) -%}
    {{ dbt.dateadd('day', 'cast(ceil(' ~ target_minutes ~ ' / 60.0) as integer) + 31', start) }}
{%- endmacro %}

{#- `start` plus a whole number of microseconds (bigint; dbt.dateadd on DuckDB multiplies
    an interval by a 32-bit integer). -#}
{% macro add_microseconds(start, microseconds) -%}
    {{ return(adapter.dispatch('add_microseconds', 'cxw')(start, microseconds)) }}
{%- endmacro %}

{% macro default__add_microseconds(start, microseconds) -%}
    ({{ start }} + ({{ microseconds }}) * interval '1 microsecond')
{%- endmacro %}

{% macro duckdb__add_microseconds(start, microseconds) -%}
    make_timestamp(cast(epoch_us({{ start }}) + ({{ microseconds }}) as bigint))
{%- endmacro %}
