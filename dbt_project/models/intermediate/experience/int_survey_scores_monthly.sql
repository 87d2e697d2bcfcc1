-- NPS, CSAT % and CES mean per month of submission, counted from the answers' flags
-- (int_survey_responses_linked classifies them): NPS = net_promoter_score; CSAT % = 100 x
-- satisfied answers / CSAT answers; CES = mean of the 1-7 answers.
with

responses as (

    select * from {{ ref('int_survey_responses_linked') }}

),

counted as (

    select
        submitted_month as month,
        sum(case when survey_type = 'nps' then 1 else 0 end) as nps_responses,
        sum(case when is_promoter then 1 else 0 end) as promoters,
        sum(case when is_detractor then 1 else 0 end) as detractors,
        sum(case when survey_type = 'csat' then 1 else 0 end) as csat_responses,
        sum(case when is_csat_satisfied then 1 else 0 end) as csat_satisfied,
        sum(case when survey_type = 'ces' then 1 else 0 end) as ces_responses,
        avg(case when survey_type = 'ces' then cast(score as {{ type_double() }}) end)
            as ces_mean
    from responses
    group by 1

),

final as (

    select
        month,
        cast(nps_responses as integer) as nps_responses,
        cast(
            {{ net_promoter_score('promoters', 'detractors', 'nps_responses') }}
            as {{ type_double() }}
        ) as nps,
        cast(100.0 * promoters / nullif(nps_responses, 0) as {{ type_double() }})
            as promoters_pct,
        cast(100.0 * detractors / nullif(nps_responses, 0) as {{ type_double() }})
            as detractors_pct,
        cast(csat_responses as integer) as csat_responses,
        cast(100.0 * csat_satisfied / nullif(csat_responses, 0) as {{ type_double() }})
            as csat_pct,
        cast(ces_responses as integer) as ces_responses,
        ces_mean
    from counted

)

select * from final
