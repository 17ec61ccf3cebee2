-- H08 · Customers who buy on certain weekdays buy again more often.
-- Grain: purchasing customer with a complete repeat horizon. Weekday of the first purchase vs buying again
-- within var repeat_horizon_days (is_repeat_purchase). Highest minus lowest weekday proportion among weekdays
-- with at least var hypothesis_min_group_size customers: Newcombe interval and pooled z test, both
-- Bonferroni-adjusted over the k(k-1)/2 pairs; Cohen's h.
-- Detail rows of the model hypothesis_h08_first_weekday_vs_repeat; its result row, the Holm-adjusted p-value and the
-- verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H08'

with

result as (

    select * from {{ ref('hypothesis_h08_first_weekday_vs_repeat') }}

),

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

units as (

    select
        {{ iso_day_name('first_purchase_iso_weekday') }} as group_label,
        case when repeated_within_horizon then 1 else 0 end as value
    from customers
    where has_complete_horizon

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
