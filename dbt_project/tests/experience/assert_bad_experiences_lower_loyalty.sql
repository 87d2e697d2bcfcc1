{#- The marts must tell the data's true story: customers with a late delivery, and
    customers whose first reply breached the SLA, have a lower NPS and a higher churn
    rate than those without. Compared only where both groups have at least
    `min_customers` customers (small samples say nothing), and churn only once at least
    `min_customers` of them have churned (a history shorter than churn_days has no churn
    to compare yet). Returns one row per comparison that does not hold. -#}
{{ config(severity='error') }}

{%- set min_customers = 30 -%}

with

customers as (

    select * from {{ ref('customers') }}
    where order_count >= 1

),

service_impact as (

    select * from {{ ref('service_impact') }}

),

delivery_groups as (

    select
        late_delivery_count > 0 as is_bad,
        count(*) as customers,
        100.0 * (
            sum(case when nps_category = 'promoter' then 1 else 0 end)
            - sum(case when nps_category = 'detractor' then 1 else 0 end)
        ) / nullif(sum(case when nps_category is not null then 1 else 0 end), 0) as nps,
        avg(case when is_churned then 1.0 else 0.0 end) as churn_rate,
        sum(case when is_churned then 1 else 0 end) as churned
    from customers
    group by 1

),

service_groups as (

    select
        service_segment = 'reply_sla_breached' as is_bad,
        customers,
        nps,
        churn_rate,
        churn_rate * customers as churned
    from service_impact
    where service_segment in ('reply_within_sla', 'reply_sla_breached')

),

compared as (

    select
        'late delivery' as comparison,
        bad.nps as bad_nps,
        good.nps as good_nps,
        bad.churn_rate as bad_churn_rate,
        good.churn_rate as good_churn_rate,
        bad.churned + good.churned as churned
    from delivery_groups as bad
    inner join delivery_groups as good
        on bad.is_bad and not good.is_bad
    where bad.customers >= {{ min_customers }}
        and good.customers >= {{ min_customers }}

    union all

    select
        'first reply SLA breached' as comparison,
        bad.nps as bad_nps,
        good.nps as good_nps,
        bad.churn_rate as bad_churn_rate,
        good.churn_rate as good_churn_rate,
        bad.churned + good.churned as churned
    from service_groups as bad
    inner join service_groups as good
        on bad.is_bad and not good.is_bad
    where bad.customers >= {{ min_customers }}
        and good.customers >= {{ min_customers }}

)

select * from compared
where bad_nps >= good_nps
    or (churned >= {{ min_customers }} and bad_churn_rate <= good_churn_rate)
