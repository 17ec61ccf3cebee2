-- H13 · Customers who buy more are more likely to review.
-- Grain: purchasing customer; needs reviews. The share of purchases reviewed, not "any review": more purchases
-- are more chances to review. Pearson r, Fisher-z interval and p-value.

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

{{ correlation_ctes('mean purchases per customer', 'mean share of purchases reviewed') }},

{{ result_cte('pearson correlation', 'positive', 'pearson_r', hypothesis_verdict_rule('pearson_r', 'positive')) }},

final as (

    select
        {{ hypothesis_header('H13', 'customer', 'Pearson r between the number of purchases of a customer and the share of those purchases they reviewed') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
