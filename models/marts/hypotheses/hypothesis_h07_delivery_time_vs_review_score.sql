-- H07 · Customer satisfaction (review score) depends on how fast the order was delivered.
-- Grain: delivered purchase order with a review. Pearson r, Fisher-z interval and p-value.

with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        delivery_days as x,
        review_score as y
    from orders
    where has_review

),

{{ correlation_ctes('mean delivery days', 'mean review score') }},

{{ result_cte('pearson correlation', 'negative', 'pearson_r', hypothesis_verdict_rule('pearson_r', 'negative')) }},

final as (

    select
        {{ hypothesis_header('H07', 'order', 'Pearson r between delivery time (days from purchase to delivery) and the review score of the order') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
