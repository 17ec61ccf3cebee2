-- H03 · Customers who leave reviews are more loyal.
-- Grain: purchasing customer with a complete repeat horizon (int_hypotheses__customers.has_complete_horizon).
-- Whether the first purchase was reviewed vs whether the customer bought again within var repeat_horizon_days
-- (is_repeat_purchase: a later day): buying more cannot create more chances to review, and every customer is
-- observed for the same time. Difference in proportions, Newcombe's hybrid score interval, Cohen's h.
-- Detail rows of the model hypothesis_h03_reviewers_are_loyal; its result row, the Holm-adjusted p-value and the
-- verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H03'

with

result as (

    select * from {{ ref('hypothesis_h03_reviewers_are_loyal') }}

),

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

review_coverage as (

    -- without any review in the data the question cannot be asked: no units, n = 0
    select count(*) as reviewed_orders
    from orders
    where has_review

),

units as (

    select
        case when customers.first_purchase_reviewed then 'reviewed first purchase' else 'did not review' end
            as group_label,
        case when customers.repeated_within_horizon then 1 else 0 end as value
    from customers
    cross join review_coverage
    where review_coverage.reviewed_orders > 0
        and customers.has_complete_horizon

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
