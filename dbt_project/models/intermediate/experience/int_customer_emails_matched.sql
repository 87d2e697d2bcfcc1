-- The one rule that links a person to an orders-db customer by email: one row per
-- normalised email with its customer. An email shared by two accounts links to the older
-- one (the lowest customer id). Tickets (through their requester) and survey answers
-- (through the respondent's email) both match here, so they never disagree.
with

customers as (

    select * from {{ ref('stg_orders__customers') }}

),

final as (

    select
        email_normalized,
        min(customer_id) as customer_id
    from customers
    where email_normalized is not null
    group by 1

)

select * from final
