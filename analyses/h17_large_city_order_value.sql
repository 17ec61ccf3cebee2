-- H17 · People in large cities buy more expensive orders.
-- Grain: purchase order, city of the order address; total paid. Difference in means (Welch), Cohen's d.
-- Detail rows of the model hypothesis_h17_large_city_order_value; its result row, the Holm-adjusted p-value and the
-- verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H17'

with

result as (

    select * from {{ ref('hypothesis_h17_large_city_order_value') }}

),

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        case when is_large_city then '{{ large_city_label() }}' else 'other city' end as group_label,
        payment_value as value
    from orders

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
