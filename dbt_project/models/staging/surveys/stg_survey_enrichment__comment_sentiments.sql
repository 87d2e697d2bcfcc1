with

source as (

    select * from {{ source('survey_enrichment', 'comment_sentiment') }}

),

final as (

    select
        comment_key,
        cast(sentiment as {{ type_double() }}) as sentiment,
        scored_with
    from source

)

select * from final
