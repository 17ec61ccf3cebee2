-- H03 · Customers who leave reviews are more loyal.
-- Grain: purchasing customer with a complete repeat horizon (int_hypotheses__customers.has_complete_horizon).
-- Whether the first purchase was reviewed vs whether the customer bought again within var repeat_horizon_days
-- (is_repeat_purchase: a later day): buying more cannot create more chances to review, and every customer is
-- observed for the same time. Difference in proportions, Newcombe's hybrid score interval, Cohen's h.

with

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
        case
            when customers.first_purchase_reviewed then 'reviewed first purchase' else 'did not review'
        end as group_label,
        case when customers.repeated_within_horizon then 1 else 0 end as value
    from customers
    cross join review_coverage
    where review_coverage.reviewed_orders > 0
        and customers.has_complete_horizon

),

{{ group_stats_cte() }},

{{ named_pair_cte('reviewed first purchase', 'did not review') }},

{{ newcombe_ctes() }},

{{ result_cte('difference in proportions', 'positive', 'cohens_h', hypothesis_verdict_rule('cohens_h', 'positive')) }},

final as (

    select
        {{ hypothesis_header('H03', 'customer', 'share buying again within ' ~ var('repeat_horizon_days') ~ ' days of the first purchase (customers with the whole horizon observed), reviewed first purchase minus not reviewed') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
