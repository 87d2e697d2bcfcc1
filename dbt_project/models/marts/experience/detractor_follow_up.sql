{#- Closing the loop: every NPS detractor answer (is_detractor, classified once in
    int_survey_responses_linked: 0-6; latest version of each response)
    submitted in the 30 days before the as-of end, with what the customer said
    (redacted in staging), how they felt, and what went wrong for them, so the team knows
    whom to call back first: 1 = an open ticket or an SLA breach, 2 = a late delivery,
    3 = the rest. An answer linked to no customer keeps its row, customer fields null. -#}
with

survey_responses as (

    select * from {{ ref('int_survey_responses_linked') }}

),

comments as (

    select * from {{ ref('int_survey_comments_scored') }}

),

comment_themes as (

    select * from {{ ref('int_survey_comments_themed') }}

),

customers as (

    select * from {{ ref('customers') }}

),

customer_tickets as (

    select * from {{ ref('int_customer_tickets_summarised') }}

),

orders as (

    select * from {{ ref('int_orders_enriched') }}

),

detractor_answers as (

    select
        response_id,
        customer_id,
        submitted_at,
        score
    from survey_responses
    where is_detractor
        and submitted_at >= {{ dbt.dateadd('day', -30, as_of_end_at()) }}
        and submitted_at < {{ as_of_end_at() }}

),

themes_listed as (

    select
        response_id,
        array_agg(theme order by theme) as comment_themes
    from comment_themes
    group by 1

),

latest_orders as (

    select
        customer_id,
        order_id,
        row_number() over (
            partition by customer_id
            order by placed_at desc, order_id desc
        ) as order_rank
    from orders
    where is_counted

),

joined as (

    select
        detractor_answers.response_id,
        customers.customer_id,
        detractor_answers.submitted_at,
        detractor_answers.score,
        comments.comment_redacted,
        comments.comment_sentiment,
        themes_listed.comment_themes,
        latest_orders.order_id as last_order_id,
        case when customers.customer_id is not null then customers.late_delivery_count >= 1 end
            as had_late_delivery,
        customer_tickets.newest_open_ticket_id as open_ticket_id,
        case
            when customers.customer_id is not null
                then coalesce(customer_tickets.has_sla_breach, false)
        end as had_sla_breach
    from detractor_answers
    left join customers
        on detractor_answers.customer_id = customers.customer_id
    left join comments
        on detractor_answers.response_id = comments.response_id
    left join themes_listed
        on detractor_answers.response_id = themes_listed.response_id
    left join latest_orders
        on customers.customer_id = latest_orders.customer_id
        and latest_orders.order_rank = 1
    left join customer_tickets
        on customers.customer_id = customer_tickets.customer_id

),

final as (

    select
        response_id,
        customer_id,
        submitted_at,
        cast(score as integer) as score,
        comment_redacted,
        cast(comment_sentiment as {{ type_double() }}) as comment_sentiment,
        comment_themes,
        last_order_id,
        had_late_delivery,
        open_ticket_id,
        had_sla_breach,
        cast(
            case
                when open_ticket_id is not null or had_sla_breach then 1
                when had_late_delivery then 2
                else 3
            end as integer
        ) as follow_up_priority
    from joined

)

select * from final
