-- One row per day: the time spine MetricFlow joins to for metric_time and cumulative
-- metrics. Covers the warehouse's history and a few years ahead.
{{ config(materialized='table', schema='semantic') }}

with

bounds as (

    select
        cast('2015-01-01' as date) as first_date,
        cast('2035-12-31' as date) as last_date

),

days as (

    {{ days_between_series('bounds', 'bounds.first_date', 'bounds.last_date', 'date_day') }}

),

final as (

    select date_day from days

)

select * from final
