{#- Bounds of what an incremental run of stg_web__events reads again, from `relation`
    (the model itself): `event_date`, the first export day ('YYYYMMDD' text) to re-read
    (the latest event_date built minus `lookback_days`: Google rewrites a day for up to
    72 hours), and `loaded_at`, the latest landing already built (a late or re-landed
    older day is newer than it). Literal values, so the Parquet reader can skip files
    by their statistics (`latest_built_bounds`). -#}
{% macro web_events_reread_bounds(relation, lookback_days) -%}
    {%- set built = latest_built_bounds(relation, 'event_date', lookback_days, '%Y%m%d', '00000000') -%}
    {{ return({'event_date': built['date'], 'loaded_at': built['loaded_at']}) }}
{%- endmacro %}
