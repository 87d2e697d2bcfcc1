{#- Bounds of what an incremental run of stg_web__events reads again, from `relation`
    (the model itself): `event_date`, the first export day ('YYYYMMDD' text) to re-read
    (the latest event_date built minus `lookback_days`: Google rewrites a day for up to
    72 hours), and `loaded_at`, the latest landing already built (a late or re-landed
    older day is newer than it). Literal values, so the Parquet reader can skip files
    by their statistics. Only runs at execution time. -#}
{% macro web_events_reread_bounds(relation, lookback_days) -%}
    {%- set bounds = {'event_date': '00000000', 'loaded_at': '1970-01-01 00:00:00'} -%}
    {%- if execute -%}
        {%- set result = run_query(
            "select " ~ dbt.dateadd('day', -lookback_days, 'max(event_date)') ~ ", max(loaded_at) from " ~ relation
        ) -%}
        {%- set latest_date = result.columns[0].values()[0] -%}
        {%- set latest_loaded_at = result.columns[1].values()[0] -%}
        {%- if latest_date is not none -%}
            {%- do bounds.update({'event_date': latest_date.strftime('%Y%m%d')}) -%}
        {%- endif -%}
        {%- if latest_loaded_at is not none -%}
            {%- do bounds.update({'loaded_at': latest_loaded_at.strftime('%Y-%m-%d %H:%M:%S.%f')}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(bounds) }}
{%- endmacro %}
