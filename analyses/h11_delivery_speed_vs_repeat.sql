-- H11 · Customers who received their goods faster are more likely to buy again.
-- Grain: purchasing customer with a complete repeat horizon whose first purchase was delivered. Delivery days
-- of the first purchase (which precedes any decision to buy again), customers who did not buy again within var
-- repeat_horizon_days minus those who did (is_repeat_purchase). Difference in means (Welch), Cohen's d.
-- Detail rows of the model hypothesis_h11_delivery_speed_vs_repeat; its result row, the Holm-adjusted p-value and the
-- verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H11'

with

result as (

    select * from {{ ref('hypothesis_h11_delivery_speed_vs_repeat') }}

),

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

final as (

    select
        group_stats.group_label,
        group_stats.n_units,
        group_stats.mean_value,
        sqrt(group_stats.var_value) as sd_value,
        group_stats.n_units >= {{ var('hypothesis_min_group_size') }} as is_tested,
        coalesce(group_stats.group_label in (result.group_a, result.group_b), false) as is_compared
    from group_stats
    cross join result

)

select * from final
order by group_label
