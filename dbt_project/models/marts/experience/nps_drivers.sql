{#- Key-driver analysis of NPS: for each part of the journey that can go wrong (or
    right), the NPS of respondents with it against those without, how many NPS points
    the company would gain if those with it answered like those without, and whether
    the gap is more than noise.
    Respondents: customers with an NPS answer, each with their latest answer ever (the
    customer 360's latest_nps_score / nps_category). Driver flags come from the customer
    360 and its intermediate summaries, never again from raw data.
    Significance: a two-sample test of the NPS difference at 95%. An NPS is a mean of
    +1 (promoter), 0 (passive), -1 (detractor); its variance per answer is
    p + d - (p - d)^2, so the standard error of the gap in NPS points is
    100 * sqrt(v_with + v_without) with v = (p + d - (p - d)^2) / n. -#}
with

customers as (

    select * from {{ ref('customers') }}

),

customer_orders as (

    select * from {{ ref('int_customer_orders_summarised') }}

),

customer_tickets as (

    select * from {{ ref('int_customer_tickets_summarised') }}

),

respondents as (

    select
        customers.customer_id,
        case customers.nps_category when 'promoter' then 1 else 0 end as is_promoter,
        case customers.nps_category when 'detractor' then 1 else 0 end as is_detractor,
        customers.late_delivery_count >= 1 as late_delivery,
        customers.ticket_count >= 1 as contacted_support,
        coalesce(customer_tickets.has_reply_sla_breach, false) as reply_sla_breached,
        coalesce(customer_tickets.has_unresolved_ticket, false) as unresolved_ticket,
        coalesce(customer_orders.refunded_order_count, 0) >= 1 as refunded_order,
        customers.is_repeat_customer as repeat_customer
    from customers
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
    left join customer_tickets
        on customers.customer_id = customer_tickets.customer_id
    where customers.nps_category is not null

),

driver_flags as (

    {% set drivers = [
        'late_delivery', 'contacted_support', 'reply_sla_breached',
        'unresolved_ticket', 'refunded_order', 'repeat_customer',
    ] -%}
    {%- for driver in drivers %}
    select
        '{{ driver }}' as driver,
        {{ driver }} as has_driver,
        is_promoter,
        is_detractor
    from respondents
    {%- if not loop.last %}

    union all
    {% endif -%}
    {% endfor %}

),

driver_names as (

    {%- for driver in drivers %}
    select '{{ driver }}' as driver
    {%- if not loop.last %}
    union all
    {%- endif -%}
    {% endfor %}

),

overall as (

    -- The same arithmetic as the groups' NPS, so a driver nobody has gets an nps_without
    -- bit-identical to the overall NPS (a potential gain of exactly 0, not 1e-14).
    select
        count(*) as respondents,
        100.0 * (
            sum(is_promoter) * 1.0 / nullif(count(*), 0)
            - sum(is_detractor) * 1.0 / nullif(count(*), 0)
        ) as nps_overall
    from respondents

),

groups as (

    select
        driver_names.driver,
        sum(case when driver_flags.has_driver then 1 else 0 end) as n_with,
        sum(case when not driver_flags.has_driver then 1 else 0 end) as n_without,
        sum(case when driver_flags.has_driver then driver_flags.is_promoter else 0 end)
            as promoters_with,
        sum(case when driver_flags.has_driver then driver_flags.is_detractor else 0 end)
            as detractors_with,
        sum(case when not driver_flags.has_driver then driver_flags.is_promoter else 0 end)
            as promoters_without,
        sum(case when not driver_flags.has_driver then driver_flags.is_detractor else 0 end)
            as detractors_without
    from driver_names
    left join driver_flags
        on driver_names.driver = driver_flags.driver
    group by 1

),

shares as (

    select
        driver,
        n_with,
        n_without,
        promoters_with * 1.0 / nullif(n_with, 0) as p_with,
        detractors_with * 1.0 / nullif(n_with, 0) as d_with,
        promoters_without * 1.0 / nullif(n_without, 0) as p_without,
        detractors_without * 1.0 / nullif(n_without, 0) as d_without
    from groups

),

compared as (

    select
        shares.driver,
        shares.n_with,
        shares.n_without,
        100.0 * (shares.p_with - shares.d_with) as nps_with,
        100.0 * (shares.p_without - shares.d_without) as nps_without,
        overall.nps_overall,
        shares.n_with * 1.0 / nullif(overall.respondents, 0) as prevalence,
        (
            shares.p_with + shares.d_with
            - (shares.p_with - shares.d_with) * (shares.p_with - shares.d_with)
        ) / nullif(shares.n_with, 0) as variance_with,
        (
            shares.p_without + shares.d_without
            - (shares.p_without - shares.d_without) * (shares.p_without - shares.d_without)
        ) / nullif(shares.n_without, 0) as variance_without
    from shares
    cross join overall

),

measured as (

    select
        driver,
        n_with,
        n_without,
        nps_with,
        nps_without,
        nps_with - nps_without as nps_gap,
        nps_overall,
        prevalence,
        case
            when n_without > 0
                then case when nps_without > nps_overall then nps_without - nps_overall else 0 end
        end as potential_nps_gain,
        case
            when n_with = 0 or n_without = 0 then false
            else abs(nps_with - nps_without) > 1.96 * 100 * sqrt(variance_with + variance_without)
        end as is_significant
    from compared

),

final as (

    select
        driver,
        cast(n_with as integer) as respondents_with,
        cast(n_without as integer) as respondents_without,
        cast(nps_with as {{ type_double() }}) as nps_with,
        cast(nps_without as {{ type_double() }}) as nps_without,
        cast(nps_gap as {{ type_double() }}) as nps_gap,
        cast(nps_overall as {{ type_double() }}) as nps_overall,
        cast(prevalence as {{ type_double() }}) as prevalence,
        cast(potential_nps_gain as {{ type_double() }}) as potential_nps_gain,
        cast(row_number() over (
            order by coalesce(potential_nps_gain, -1) desc, driver
        ) as integer) as rank,
        is_significant
    from measured

)

select * from final
