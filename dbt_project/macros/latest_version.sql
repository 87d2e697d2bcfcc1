{#- The latest version of each record of `relation` (a CTE or relation name): one row per
    `partition_by` key, the first by `order_by`. Every incremental export repeats records
    across pages and windows; staging keeps only the newest. DuckDB filters with
    `qualify`; elsewhere a ranked subquery (its `version_rank` column is left for the
    caller's explicit column list to drop). -#}
{% macro latest_version(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('latest_version', 'cxw')(relation, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__latest_version(relation, partition_by, order_by) -%}
    select ranked.*
    from (
        select
            *,
            row_number() over (
                partition by {{ partition_by }}
                order by {{ order_by }}
            ) as version_rank
        from {{ relation }}
    ) as ranked
    where ranked.version_rank = 1
{%- endmacro %}

{% macro duckdb__latest_version(relation, partition_by, order_by) -%}
    select *
    from {{ relation }}
    qualify row_number() over (
        partition by {{ partition_by }}
        order by {{ order_by }}
    ) = 1
{%- endmacro %}
