-- H15 · How the rating relates to the number of items in the order.
-- Grain: purchase order with items and a review (each order counted once). Pearson r, Fisher-z interval and p-value.

with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        item_count as x,
        review_score as y
    from orders
    where has_review
        and item_count > 0

),

{{ correlation_ctes('mean items per order', 'mean review score') }},

{{ result_cte('pearson correlation', 'any', 'pearson_r', hypothesis_verdict_rule('pearson_r', 'any')) }},

final as (

    select
        {{ hypothesis_header('H15', 'order', 'Pearson r between the number of items in an order and its review score (each order counted once)') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
