-- H13 · Customers who buy more are more likely to review.
-- Grain: purchasing customer; needs reviews. The share of purchases reviewed, not "any review": more purchases
-- are more chances to review. Pearson r, Fisher-z interval and p-value.
-- Detail rows of the model hypothesis_h13_frequent_buyers_review_more; its result row, the Holm-adjusted p-value and
-- the verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H13'

with

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

review_coverage as (

    select count(*) as reviewed_orders
    from orders
    where has_review

),

units as (

    select
        customers.purchase_count as x,
        customers.reviewed_share as y
    from customers
    cross join review_coverage
    where review_coverage.reviewed_orders > 0

),

{{ decile_detail_cte() }},

final as (

    select * from deciles

)

select * from final
order by x_decile
