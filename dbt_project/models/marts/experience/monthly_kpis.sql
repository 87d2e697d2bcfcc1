-- The experience KPIs per calendar month (UTC), from the first month with any activity
-- to the as-of month (var as_of_date) or the last month with activity, whichever is
-- earlier.
{%- set as_of_date = "cast('" ~ as_of_date() ~ "' as date)" %}

with

orders as (

    select * from {{ ref('int_orders_enriched') }}
    where is_counted

),

survey_scores as (

    select * from {{ ref('int_survey_scores_monthly') }}

),

tickets as (

    select * from {{ ref('tickets') }}

),

sessions as (

    select * from {{ ref('sessions') }}

),

order_months as (

    select
        order_month as month,
        count(*) as orders,
        count(distinct customer_id) as active_customers,
        count(distinct case when customer_order_number = 1 then customer_id end)
            as new_customers,
        count(distinct case when customer_order_number > 1 then customer_id end)
            as returning_customers,
        sum(net_revenue) as net_revenue
    from orders
    group by 1

),

churn_events as (

    -- A customer churns churn_days after an order not followed by another within
    -- churn_days; counted once that day has come by the as-of date.
    select
        customer_id,
        {{ dbt.dateadd('day', var('churn_days'), 'order_date') }} as churned_on
    from orders
    where next_order_date is null
        or {{ dbt.datediff('order_date', 'next_order_date', 'day') }} >= {{ var('churn_days') }}  -- noqa: LT05

),

churn_months as (

    select
        cast({{ dbt.date_trunc('month', 'churned_on') }} as date) as month,
        count(distinct customer_id) as churned_customers
    from churn_events
    where cast(churned_on as date) <= {{ as_of_date }}
    group by 1

),

ticket_months as (

    select
        cast({{ dbt.date_trunc('month', 'created_at') }} as date) as month,
        count(*) as tickets
    from tickets
    group by 1

),

session_months as (

    select
        cast({{ dbt.date_trunc('month', 'started_at') }} as date) as month,
        count(*) as sessions,
        sum(case when order_id is not null then 1 else 0 end) as purchase_sessions
    from sessions
    group by 1

),

activity_months as (

    select month from order_months
    union all
    select month from survey_scores
    union all
    select month from ticket_months
    union all
    select month from session_months

),

month_bounds as (

    select
        min(month) as first_month,
        case
            when max(month) < cast({{ dbt.date_trunc('month', as_of_date) }} as date)
                then max(month)
            else cast({{ dbt.date_trunc('month', as_of_date) }} as date)
        end as last_month
    from activity_months
    having count(*) > 0

),

months as (

    {{ months_between_series('month_bounds', 'month_bounds.first_month', 'month_bounds.last_month', 'month') }}

),

final as (

    select
        months.month,
        survey_scores.nps,
        cast(coalesce(survey_scores.nps_responses, 0) as integer) as nps_responses,
        survey_scores.promoters_pct,
        survey_scores.detractors_pct,
        survey_scores.csat_pct,
        cast(survey_scores.ces_mean as {{ type_double() }}) as ces_mean,
        cast(coalesce(order_months.active_customers, 0) as integer) as active_customers,
        cast(coalesce(order_months.new_customers, 0) as integer) as new_customers,
        cast(
            order_months.returning_customers * 1.0
            / nullif(order_months.active_customers, 0) as {{ type_double() }}
        ) as repeat_purchase_rate,
        cast(coalesce(churn_months.churned_customers, 0) as integer) as churned_customers,
        cast(
            100.0 * coalesce(ticket_months.tickets, 0)
            / nullif(order_months.orders, 0) as {{ type_double() }}
        ) as contacts_per_100_orders,
        cast(coalesce(order_months.net_revenue, 0) as decimal(18, 2)) as net_revenue,
        cast(
            session_months.purchase_sessions * 1.0
            / nullif(session_months.sessions, 0) as {{ type_double() }}
        ) as session_conversion_rate
    from months
    left join survey_scores
        on months.month = survey_scores.month
    left join order_months
        on months.month = order_months.month
    left join churn_months
        on months.month = churn_months.month
    left join ticket_months
        on months.month = ticket_months.month
    left join session_months
        on months.month = session_months.month

)

select * from final
