{#- The end of the run's data date (macro `as_of_date`): "now" for every open-ended
    measure, so a rerun of an old day gives the same answer as the first run. -#}
{% macro as_of_end_at() -%}
    {{ dbt.dateadd('day', 1, "cast('" ~ as_of_date() ~ "' as timestamp)") }}
{%- endmacro %}
