-- Customer 360: one row per orders-db customer with their journey across web, orders,
-- delivery, service and feedback. Tenure and churn are as of var as_of_date.
with

customers as (

    select * from {{ ref('stg_orders__customers') }}

),

customer_orders as (

    select * from {{ ref('int_customer_orders_summarised') }}

),

sessions as (

    select * from {{ ref('sessions') }}

),

tickets as (

    select * from {{ ref('tickets') }}

),

survey_responses as (

    select * from {{ ref('int_survey_responses_linked') }}

),

customer_sessions as (

    select
        customer_id,
        session_key,
        started_at,
        source,
        medium,
        row_number() over (
            partition by customer_id
            order by started_at, session_key
        ) as session_number
    from sessions
    where customer_id is not null

),

web_summary as (

    select
        customer_id,
        count(*) as web_session_count,
        min(started_at) as first_web_event_at,
        max(case when session_number = 1 then source end) as acquisition_source,
        max(case when session_number = 1 then medium end) as acquisition_medium
    from customer_sessions
    group by 1

),

ticket_summary as (

    select
        customer_id,
        count(*) as ticket_count
    from tickets
    where customer_id is not null
    group by 1

),

ranked_nps as (

    select
        customer_id,
        score,
        nps_category,
        row_number() over (
            partition by customer_id
            order by submitted_at desc, response_id desc
        ) as answer_rank
    from survey_responses
    where survey_type = 'nps'
        and customer_id is not null

),

survey_summary as (

    select
        customer_id,
        avg(case when survey_type = 'csat' then cast(score as {{ type_double() }}) end)
            as avg_csat,
        avg(case when survey_type = 'ces' then cast(score as {{ type_double() }}) end)
            as avg_ces
    from survey_responses
    where customer_id is not null
    group by 1

),

final as (

    select
        customers.customer_id,
        {{ email_hash('customers.email_normalized') }} as email_hash,
        customers.country,
        customers.signup_at,
        -- Earliest of the first stitched web event, the signup and the first order
        -- (signup_at is never null).
        least(
            coalesce(web_summary.first_web_event_at, customers.signup_at),
            coalesce(customer_orders.first_order_at, customers.signup_at),
            customers.signup_at
        ) as first_seen_at,
        coalesce(web_summary.acquisition_source, '(direct)') as acquisition_source,
        coalesce(web_summary.acquisition_medium, '(none)') as acquisition_medium,
        customer_orders.first_order_at,
        customer_orders.last_order_at,
        cast(coalesce(customer_orders.order_count, 0) as integer) as order_count,
        cast(coalesce(customer_orders.net_revenue, 0) as decimal(18, 2)) as net_revenue,
        cast(
            customer_orders.net_revenue / nullif(customer_orders.order_count, 0) as decimal(18, 2)
        ) as avg_order_value,
        coalesce(customer_orders.order_count, 0) >= 2 as is_repeat_customer,
        cast(coalesce(customer_orders.late_delivery_count, 0) as integer) as late_delivery_count,
        cast(coalesce(web_summary.web_session_count, 0) as integer) as web_session_count,
        cast(coalesce(ticket_summary.ticket_count, 0) as integer) as ticket_count,
        cast(
            coalesce(ticket_summary.ticket_count, 0) * 1.0
            / nullif(customer_orders.order_count, 0) as {{ type_double() }}
        ) as contact_rate,
        cast(ranked_nps.score as integer) as latest_nps_score,
        ranked_nps.nps_category,
        cast(survey_summary.avg_csat as {{ type_double() }}) as avg_csat,
        cast(survey_summary.avg_ces as {{ type_double() }}) as avg_ces,
        customer_orders.tenure_days,
        customer_orders.days_since_last_order,
        coalesce(customer_orders.is_churned, false) as is_churned
    from customers
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
    left join web_summary
        on customers.customer_id = web_summary.customer_id
    left join ticket_summary
        on customers.customer_id = ticket_summary.customer_id
    left join ranked_nps
        on customers.customer_id = ranked_nps.customer_id
        and ranked_nps.answer_rank = 1
    left join survey_summary
        on customers.customer_id = survey_summary.customer_id

)

select * from final
