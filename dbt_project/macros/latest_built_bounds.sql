{#- What an incremental web model has already built, from `relation` (the model itself),
    as literal values (so the reader can prune): `date`, its latest `date_column` minus
    `lookback_days` (Google rewrites an export day for up to 72 hours), formatted with
    `date_format`, and `loaded_at`, the latest landing already built (a late or
    re-landed older day is newer than it). `empty_date` when nothing is built yet. Only
    runs at execution time. -#}
{% macro latest_built_bounds(relation, date_column, lookback_days, date_format, empty_date) -%}
    {%- set bounds = {'date': empty_date, 'loaded_at': '1970-01-01 00:00:00'} -%}
    {%- if execute -%}
        {%- set result = run_query(
            "select " ~ dbt.dateadd('day', -lookback_days, 'max(' ~ date_column ~ ')')
            ~ ", max(loaded_at) from " ~ relation
        ) -%}
        {%- set latest_date = result.columns[0].values()[0] -%}
        {%- set latest_loaded_at = result.columns[1].values()[0] -%}
        {%- if latest_date is not none -%}
            {%- do bounds.update({'date': latest_date.strftime(date_format)}) -%}
        {%- endif -%}
        {%- if latest_loaded_at is not none -%}
            {%- do bounds.update({'loaded_at': latest_loaded_at.strftime('%Y-%m-%d %H:%M:%S.%f')}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(bounds) }}
{%- endmacro %}
