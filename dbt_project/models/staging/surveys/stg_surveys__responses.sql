with

source as (

    select * from {{ source('surveys', 'responses') }}

),

latest as (

    {{ latest_version('source', 'response_id', 'submitted_at desc, _loaded_at desc') }}

),

final as (

    select
        response_id,
        survey_type,
        {{ to_utc('submitted_at') }} as submitted_at,
        lower(trim(respondent_email)) as email_normalized,
        customer_id,
        ticket_id,
        order_id,
        cast(score as integer) as score,
        -- The comment only ever leaves the lake redacted; comment_key (MD5 of the raw
        -- text) joins the sentiment Python scored before the build.
        {{ redact_free_text("nullif(trim(comment), '')") }} as comment_redacted,
        case
            when nullif(trim(comment), '') is not null then {{ dbt.hash('comment') }}
        end as comment_key
    from latest

)

select * from final
