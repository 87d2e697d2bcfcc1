{#- The business-hours pieces of time spans: one row per span and business-hours interval
    of the account's default (first) schedule (int_schedule_intervals_expanded: its time
    zone, daylight saving and holidays), with the part of the span inside that interval
    (`piece_start_at`, `piece_end_at`) and its length in whole microseconds
    (`piece_microseconds`). `spans` is a relation or CTE with `span_start_at` and
    `span_end_at`; `key_columns` are carried through. Business minutes are always the sum
    of these pieces: this is the one place that counts them. -#}
{% macro business_hours_pieces(spans, key_columns) -%}
    select
        {%- for column in key_columns %}
        {{ spans }}.{{ column }},
        {%- endfor %}
        greatest({{ spans }}.span_start_at, business_intervals.interval_start_at) as piece_start_at,
        least({{ spans }}.span_end_at, business_intervals.interval_end_at) as piece_end_at,
        {{ microseconds_between(
            'greatest(' ~ spans ~ '.span_start_at, business_intervals.interval_start_at)',
            'least(' ~ spans ~ '.span_end_at, business_intervals.interval_end_at)'
        ) }} as piece_microseconds
    from {{ spans }}
    inner join (

        select schedule_intervals.*
        from {{ ref('int_schedule_intervals_expanded') }} as schedule_intervals
        where schedule_intervals.schedule_id = (
            -- Tickets are measured against the account's default (first) schedule.
            select min(schedule_id) from {{ ref('int_schedule_intervals_expanded') }}
        )

    ) as business_intervals
        on business_intervals.interval_end_at > {{ spans }}.span_start_at
        and business_intervals.interval_start_at < {{ spans }}.span_end_at
{%- endmacro %}
