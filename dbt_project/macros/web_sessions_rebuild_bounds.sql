{#- What an incremental run of int_web_sessions_aggregated (`relation`) rebuilds, from
    its last state and the events already staged this run (`events`), as literal values
    so the events table is read only from the first changed day on instead of whole:
    - `event_date`, `loaded_at`: an event on or after that date (the latest date built
      minus `lookback_days`: Google rewrites a day for up to 72 hours) or landed after
      that time (a late or re-landed older day) changes its session;
    - `read_from`: the day before the earliest such event (a session can cross
      midnight), the first event date a changed session can have; null when no event
      changed. Only runs at execution time. -#}
{% macro web_sessions_rebuild_bounds(relation, events, lookback_days) -%}
    {%- set built = latest_built_bounds(relation, 'last_event_date', lookback_days, '%Y-%m-%d', '1970-01-01') -%}
    {%- set bounds = {'event_date': built['date'], 'loaded_at': built['loaded_at'], 'read_from': none} -%}
    {%- if execute -%}
        {%- set changed = run_query(
            "select " ~ dbt.dateadd('day', -1, 'min(event_date)') ~ " from " ~ events
            ~ " where session_key is not null and (event_date >= cast('" ~ bounds.event_date
            ~ "' as date) or loaded_at > cast('" ~ bounds.loaded_at ~ "' as "
            ~ dbt.type_timestamp() ~ "))"
        ) -%}
        {%- set read_from = changed.columns[0].values()[0] -%}
        {%- if read_from is not none -%}
            {%- do bounds.update({'read_from': read_from.strftime('%Y-%m-%d')}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(bounds) }}
{%- endmacro %}


{#- The pre-hook of int_web_sessions_aggregated (`relation`): delete the sessions that no
    longer have any event in `events` (Google rewrote their day with fewer sessions).
    Only sessions whose first event is on or after `read_from` can have lost them all:
    the days before it are not re-read. Nothing on a first build or a full refresh. -#}
{% macro delete_vanished_web_sessions(relation, events) -%}
    {%- if is_incremental() -%}
        {%- set bounds = web_sessions_rebuild_bounds(relation, events, var('web_reread_days')) -%}
        {%- if bounds.read_from -%}
            delete from {{ relation }}
            where first_event_date >= cast('{{ bounds.read_from }}' as date)
                and session_key not in (
                    select session_key from {{ events }}
                    where event_date >= cast('{{ bounds.read_from }}' as date)
                        and session_key is not null
                )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
