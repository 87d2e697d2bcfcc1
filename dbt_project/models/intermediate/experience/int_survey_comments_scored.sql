-- The latest version of every survey answer with a non-blank comment: the comment as
-- redacted in staging (the raw text never reaches this layer) and its sentiment, which
-- cxw.comment_sentiment scored with VADER before the build (-1 negative ... 1 positive).
with

survey_responses as (

    select * from {{ ref('int_survey_responses_linked') }}

),

comment_sentiments as (

    select * from {{ ref('stg_survey_enrichment__comment_sentiments') }}

),

final as (

    select
        survey_responses.response_id,
        survey_responses.survey_type,
        survey_responses.submitted_at,
        survey_responses.submitted_month,
        survey_responses.customer_id,
        survey_responses.score,
        survey_responses.comment_redacted,
        comment_sentiments.sentiment as comment_sentiment
    from survey_responses
    left join comment_sentiments
        on survey_responses.comment_key = comment_sentiments.comment_key
    where survey_responses.comment_redacted is not null

)

select * from final
