-- What customers write about, month by month: answers per survey type and theme (the
-- keyword taxonomy seed comment_theme_keywords; a comment matching none is `other`),
-- with their mean sentiment and score. Latest version of each answer with a non-blank
-- comment; an answer with two themes counts under both.
with

comments as (

    select * from {{ ref('int_survey_comments_scored') }}

),

comment_themes as (

    select * from {{ ref('int_survey_comments_themed') }}

),

aggregated as (

    select
        comments.submitted_month,
        comments.survey_type,
        comment_themes.theme,
        count(*) as answers,
        avg(comments.comment_sentiment) as avg_sentiment,
        avg(cast(comments.score as {{ type_double() }})) as avg_score
    from comments
    inner join comment_themes
        on comments.response_id = comment_themes.response_id
    group by 1, 2, 3

),

final as (

    select
        submitted_month as month,
        survey_type,
        theme,
        cast(answers as integer) as answers,
        cast(avg_sentiment as {{ type_double() }}) as avg_sentiment,
        cast(avg_score as {{ type_double() }}) as avg_score
    from aggregated

)

select * from final
