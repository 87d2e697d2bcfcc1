{#- The themes of each survey comment, from the keyword taxonomy analysts keep in seed
    comment_theme_keywords (theme, keyword): a comment has a theme when one of its words
    starts with one of the theme's keywords ("deliver" matches "delivered"; a
    multi-word keyword matches those words in a row), case-insensitive, punctuation of
    several languages and digits counting as word breaks. A comment matching no keyword
    has the single theme `other`. One row per comment x theme. -#}
with

comments as (

    select * from {{ ref('int_survey_comments_scored') }}

),

theme_keywords as (

    select * from {{ ref('comment_theme_keywords') }}

),

words as (

    select
        response_id,
        {{ dbt.concat([
            "' '",
            "regexp_replace(lower(comment_redacted), '[[:punct:][:space:][:digit:]«»¿¡„“”‘’…–—]+', ' ', 'g')",
            "' '",
        ]) }} as comment_words
    from comments

),

matched as (

    select distinct
        words.response_id,
        theme_keywords.theme
    from words
    inner join theme_keywords
        on words.comment_words like {{ dbt.concat(["'% '", "lower(trim(theme_keywords.keyword))", "'%'"]) }}

),

final as (

    select
        response_id,
        theme
    from matched

    union all

    select
        comments.response_id,
        'other' as theme
    from comments
    where not exists (
            select 1
            from matched
            where matched.response_id = comments.response_id
        )

)

select * from final
