{#- The latest `loaded_at` an incremental model already holds (`relation`: the model
    itself), as a timestamp literal: an incremental run reads only the rows landed after
    it. A literal rather than a subquery, so the Parquet reader can skip the older
    batches by their statistics. '1970-01-01' when the model is empty. Only runs at
    execution time. -#}
{% macro loaded_at_watermark(relation) -%}
    {%- set watermark = '1970-01-01 00:00:00' -%}
    {%- if execute -%}
        {%- set result = run_query("select max(loaded_at) from " ~ relation) -%}
        {%- set latest_loaded_at = result.columns[0].values()[0] -%}
        {%- if latest_loaded_at is not none -%}
            {%- set watermark = latest_loaded_at.strftime('%Y-%m-%d %H:%M:%S.%f') -%}
        {%- endif -%}
    {%- endif -%}
    {{ return("cast('" ~ watermark ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
