-- Survey answers linked to their customer: the customer id the survey sent, else the
-- ticket's customer, else the customer whose normalised email is the respondent's.
with

responses as (

    select * from {{ ref('stg_surveys__responses') }}

),

customers as (

    select * from {{ ref('stg_orders__customers') }}

),

customers_by_email as (

    -- An email shared by two accounts links to the older one.
    select
        email_normalized,
        min(customer_id) as customer_id
    from customers
    where email_normalized is not null
    group by 1

),

tickets as (

    select * from {{ ref('tickets') }}

),

final as (

    select
        responses.response_id,
        responses.survey_type,
        responses.submitted_at,
        cast({{ dbt.date_trunc('month', 'responses.submitted_at') }} as date) as submitted_month,
        coalesce(responses.customer_id, tickets.customer_id, customers_by_email.customer_id)
            as customer_id,
        responses.ticket_id,
        responses.order_id,
        responses.score,
        responses.comment_redacted,
        responses.comment_key,
        case
            when responses.survey_type <> 'nps' then null
            when responses.score >= 9 then 'promoter'
            when responses.score >= 7 then 'passive'
            else 'detractor'
        end as nps_category
    from responses
    left join tickets
        on responses.ticket_id = tickets.ticket_id
    left join customers_by_email
        on responses.email_normalized = customers_by_email.email_normalized

)

select * from final
