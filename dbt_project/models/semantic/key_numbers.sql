-- The headline numbers over the whole history up to the as-of date, one row: what
-- `cxw show` prints and the dashboard's tiles show. Each is an aggregate of a column the
-- marts already classify (promoter, satisfied, breached, repeat, churned), with the same
-- definition as the semantic layer's metric of that name, so every place agrees.
with

tickets as (

    select * from {{ ref('tickets') }}

),

customers as (

    select * from {{ ref('customers') }}

),

survey_answers as (

    select * from {{ ref('survey_answers') }}

),

sessions as (

    select * from {{ ref('sessions') }}

),

cohort_retention as (

    select * from {{ ref('cohort_retention') }}

),

ticket_numbers as (

    select
        count(*) as tickets,
        percentile_cont(0.5) within group (order by first_reply_business_minutes)
            as first_reply_business_minutes_median,
        percentile_cont(0.5) within group (order by first_reply_minutes)
            as first_reply_minutes_median,
        avg(
            case
                when is_first_reply_sla_breached then 1.0
                when not is_first_reply_sla_breached then 0.0
            end
        )
            as first_reply_sla_breach_rate,
        max(created_at) as last_ticket_at
    from tickets

),

survey_numbers as (

    select
        sum(case when survey_type = 'nps' then 1 else 0 end) as nps_answers,
        {{ net_promoter_score(
            "sum(case when is_promoter then 1 else 0 end)",
            "sum(case when is_detractor then 1 else 0 end)",
            "sum(case when survey_type = 'nps' then 1 else 0 end)",
        ) }} as nps,
        sum(case when survey_type = 'csat' then 1 else 0 end) as csat_answers,
        100.0 * sum(case when is_csat_satisfied then 1 else 0 end)
        / nullif(sum(case when survey_type = 'csat' then 1 else 0 end), 0) as csat_pct,
        avg(case when survey_type = 'ces' then cast(score as {{ type_double() }}) end) as ces_mean,
        max(submitted_at) as last_answer_at
    from survey_answers

),

customer_numbers as (

    select
        count(*) as customers,
        sum(case when order_count >= 1 then 1 else 0 end) as ordering_customers,
        avg(case when order_count >= 1 then (case when is_repeat_customer then 1.0 else 0.0 end) end)
            as repeat_purchase_rate,
        avg(case when order_count >= 1 then (case when is_churned then 1.0 else 0.0 end) end)
            as churn_rate,
        sum(net_revenue) as net_revenue,
        max(last_order_at) as last_order_at
    from customers

),

session_numbers as (

    select
        count(*) as sessions,
        avg(case when order_id is not null then 1.0 else 0.0 end) as session_conversion_rate,
        max(started_at) as last_session_at
    from sessions

),

retention_numbers as (

    select
        1.0 * sum(active_customers) / nullif(sum(cohort_size), 0) as retention_month_3
    from cohort_retention
    where months_since_first_order = 3

),

final as (

    select
        cast('{{ as_of_date() }}' as date) as as_of_date,
        cast(greatest(
            ticket_numbers.last_ticket_at,
            survey_numbers.last_answer_at,
            customer_numbers.last_order_at,
            session_numbers.last_session_at
        ) as timestamp) as data_through_at,
        cast(ticket_numbers.tickets as integer) as tickets,
        cast(ticket_numbers.first_reply_business_minutes_median as {{ type_double() }})
            as first_reply_business_minutes_median,
        cast(ticket_numbers.first_reply_minutes_median as {{ type_double() }})
            as first_reply_minutes_median,
        cast(ticket_numbers.first_reply_sla_breach_rate as {{ type_double() }})
            as first_reply_sla_breach_rate,
        cast(survey_numbers.csat_answers as integer) as csat_answers,
        cast(survey_numbers.csat_pct as {{ type_double() }}) as csat_pct,
        cast(survey_numbers.ces_mean as {{ type_double() }}) as ces_mean,
        cast(customer_numbers.customers as integer) as customers,
        cast(customer_numbers.ordering_customers as integer) as ordering_customers,
        cast(survey_numbers.nps_answers as integer) as nps_answers,
        cast(survey_numbers.nps as {{ type_double() }}) as nps,
        cast(customer_numbers.repeat_purchase_rate as {{ type_double() }}) as repeat_purchase_rate,
        cast(customer_numbers.churn_rate as {{ type_double() }}) as churn_rate,
        cast(customer_numbers.net_revenue as decimal(18, 2)) as net_revenue,
        cast(session_numbers.sessions as integer) as sessions,
        cast(session_numbers.session_conversion_rate as {{ type_double() }})
            as session_conversion_rate,
        cast(retention_numbers.retention_month_3 as {{ type_double() }}) as retention_month_3
    from ticket_numbers
    cross join survey_numbers
    cross join customer_numbers
    cross join session_numbers
    cross join retention_numbers

)

select * from final
