-- SLA policies are landed as a full snapshot each run: the latest snapshot is the truth.
with

source as (

    select * from {{ source('helpdesk', 'sla_policy_metrics') }}

),

latest_snapshot as (

    select * from source
    where _loaded_at = (select max(_loaded_at) from source)

),

final as (

    select
        policy_id as sla_policy_id,
        title as sla_policy_title,
        priority,
        metric,
        cast(target as {{ dbt.type_float() }}) as target_minutes,
        coalesce(business_hours, false) as is_business_hours
    from latest_snapshot

)

select * from final
