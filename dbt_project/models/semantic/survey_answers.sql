-- One row per survey answer linked to its customer: what the semantic layer's NPS, CSAT
-- and CES metrics count. A table in the published `semantic` schema (the intermediate
-- layer is not published), without the respondent's email.
with

responses as (

    select * from {{ ref('int_survey_responses_linked') }}

),

final as (

    select
        response_id,
        survey_type,
        submitted_at,
        customer_id,
        ticket_id,
        order_id,
        score,
        is_promoter,
        is_passive,
        is_detractor,
        is_csat_satisfied,
        nps_category
    from responses

)

select * from final
