-- NPS, CSAT % and CES mean per month of submission (marts.md definitions:
-- NPS = 100 x (promoters 9-10 - detractors 0-6) / answers; CSAT % = 100 x answers of 4-5 /
-- answers; CES = mean of the 1-7 answers).
with

responses as (

    select * from {{ ref('int_survey_responses_linked') }}

),

counted as (

    select
        submitted_month as month,
        sum(case when survey_type = 'nps' then 1 else 0 end) as nps_responses,
        sum(case when survey_type = 'nps' and score >= 9 then 1 else 0 end) as promoters,
        sum(case when survey_type = 'nps' and score <= 6 then 1 else 0 end) as detractors,
        sum(case when survey_type = 'csat' then 1 else 0 end) as csat_responses,
        sum(case when survey_type = 'csat' and score >= 4 then 1 else 0 end) as csat_satisfied,
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
            100.0 * (promoters - detractors) / nullif(nps_responses, 0) as {{ type_double() }}
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
