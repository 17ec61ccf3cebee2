-- H11 · Customers who received their goods faster are more likely to buy again.
-- Grain: purchasing customer with a complete repeat horizon whose first purchase was delivered. Delivery days
-- of the first purchase (which precedes any decision to buy again), customers who did not buy again within var
-- repeat_horizon_days minus those who did (is_repeat_purchase). Difference in means (Welch), Cohen's d.

with

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

units as (

    select
        case when repeated_within_horizon then 'repeat buyer' else 'one-time buyer' end as group_label,
        first_purchase_delivery_days as value
    from customers
    where has_complete_horizon
        and first_purchase_delivery_days is not null

),

{{ group_stats_cte() }},

{{ named_pair_cte('one-time buyer', 'repeat buyer') }},

{{ welch_ctes() }},

{{ result_cte('difference in means', 'positive', 'cohens_d', hypothesis_verdict_rule('cohens_d', 'positive')) }},

final as (

    select
        {{ hypothesis_header('H11', 'customer', 'mean delivery days of the first purchase, customers who did not buy again within ' ~ var('repeat_horizon_days') ~ ' days minus those who did (whole horizon observed)') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
