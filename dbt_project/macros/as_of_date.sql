{#- The run's data date ('YYYY-MM-DD' text): tenure, churn and "open at end of day" are
    measured as of it, never as of the wall clock, so rerunning an old day gives the same
    answer. It comes from the environment (CXW_AS_OF_DATE, set by cxw.warehouse for each
    build) and is read only at execution time: dbt records the env vars and `--vars` it
    sees while parsing, and a new value every day would make it re-parse the whole
    project every day. A `vars: {as_of_date: ...}` (unit test overrides, `--vars` by hand)
    still wins. '2099-12-31' when neither is set. -#}
{% macro as_of_date() -%}
    {%- set overridden = var('as_of_date', none) -%}
    {%- if overridden is not none -%}
        {{ return(overridden | string) }}
    {%- elif execute -%}
        {{ return(env_var('CXW_AS_OF_DATE', '2099-12-31')) }}
    {%- endif -%}
    {{ return('2099-12-31') }}
{%- endmacro %}
