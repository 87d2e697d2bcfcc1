with

source as (

    select * from {{ source('surveys', 'responses') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by response_id
            order by submitted_at desc, _loaded_at desc
        ) as version_rank
    from source

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
        cast(score as integer) as score
    from latest
    where version_rank = 1

)

select * from final
