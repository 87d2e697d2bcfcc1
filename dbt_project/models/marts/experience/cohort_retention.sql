-- Customers by month of first order, and the share of each cohort that ordered again in
-- each later month, up to the as-of month (var as_of_date) or the last month with orders.
with

orders as (

    select * from {{ ref('int_orders_enriched') }}
    where is_counted

),

customer_cohorts as (

    select
        customer_id,
        min(order_month) as cohort_month
    from orders
    group by 1

),

cohorts as (

    select
        cohort_month,
        count(*) as cohort_size
    from customer_cohorts
    group by 1

),

as_of_month as (

    select
        cast({{ dbt.date_trunc('month', "cast('" ~ as_of_date() ~ "' as date)") }} as date)
            as as_of_month,
        max(order_month) as last_order_month
    from orders

),

cohort_spans as (

    select
        cohorts.cohort_month,
        case
            when as_of_month.last_order_month < as_of_month.as_of_month
                then as_of_month.last_order_month
            else as_of_month.as_of_month
        end as last_month
    from cohorts
    cross join as_of_month

),

cohort_months as (

    {{ months_between_series(
        'cohort_spans', 'cohort_spans.cohort_month', 'cohort_spans.last_month', 'activity_month'
    ) }}

),

active as (

    select
        customer_cohorts.cohort_month,
        orders.order_month as activity_month,
        count(distinct orders.customer_id) as active_customers
    from orders
    inner join customer_cohorts
        on orders.customer_id = customer_cohorts.customer_id
    group by 1, 2

),

final as (

    select
        cohort_months.cohort_month,
        cast(
            {{ dbt.datediff('cohort_months.cohort_month', 'cohort_months.activity_month', 'month') }}  -- noqa: LT05
            as integer
        )
            as months_since_first_order,
        cast(cohorts.cohort_size as integer) as cohort_size,
        cast(coalesce(active.active_customers, 0) as integer) as active_customers,
        cast(
            coalesce(active.active_customers, 0) * 1.0 / cohorts.cohort_size as {{ type_double() }}
        ) as retention_rate
    from cohort_months
    inner join cohorts
        on cohort_months.cohort_month = cohorts.cohort_month
    left join active
        on cohort_months.cohort_month = active.cohort_month
        and cohort_months.activity_month = active.activity_month

)

select * from final
