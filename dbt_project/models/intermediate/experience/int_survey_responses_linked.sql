-- Survey answers linked to their customer, each answer classified once: the customer id
-- the survey sent, else the customer of the ticket it is about (its requester's email),
-- else the customer whose normalised email is the respondent's. The classification
-- (promoter 9-10, passive 7-8, detractor 0-6 of NPS answers; satisfied 4-5 of CSAT
-- answers) is defined here only: every model after it counts these flags.
with

responses as (

    select * from {{ ref('stg_surveys__responses') }}

),

tickets as (

    -- A deleted ticket links no customer, as it leaves the marts.
    select * from {{ ref('stg_helpdesk__tickets') }}
    where is_deleted is not true

),

users as (

    select * from {{ ref('stg_helpdesk__users') }}

),

customer_emails as (

    select * from {{ ref('int_customer_emails_matched') }}

),

ticket_customers as (

    select
        tickets.ticket_id,
        customer_emails.customer_id
    from tickets
    inner join users
        on tickets.requester_id = users.user_id
    inner join customer_emails
        on users.email_normalized = customer_emails.email_normalized

),

classified as (

    select
        *,
        coalesce(survey_type = 'nps' and score >= 9, false) as is_promoter,
        coalesce(survey_type = 'nps' and score between 7 and 8, false) as is_passive,
        coalesce(survey_type = 'nps' and score <= 6, false) as is_detractor,
        coalesce(survey_type = 'csat' and score >= 4, false) as is_csat_satisfied
    from responses

),

final as (

    select
        classified.response_id,
        classified.survey_type,
        classified.submitted_at,
        cast({{ dbt.date_trunc('month', 'classified.submitted_at') }} as date) as submitted_month,
        coalesce(
            classified.customer_id, ticket_customers.customer_id, customer_emails.customer_id
        ) as customer_id,
        classified.ticket_id,
        classified.order_id,
        classified.score,
        classified.comment_redacted,
        classified.comment_key,
        classified.is_promoter,
        classified.is_passive,
        classified.is_detractor,
        classified.is_csat_satisfied,
        case
            when classified.is_promoter then 'promoter'
            when classified.is_passive then 'passive'
            when classified.is_detractor then 'detractor'
        end as nps_category
    from classified
    left join ticket_customers
        on classified.ticket_id = ticket_customers.ticket_id
    left join customer_emails
        on classified.email_normalized = customer_emails.email_normalized

)

select * from final
