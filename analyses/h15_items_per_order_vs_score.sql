-- H15 · How the rating relates to the number of items in the order.
-- Grain: purchase order with items and a review (each order counted once). Pearson r, Fisher-z interval and p-value.
-- Detail rows of the model hypothesis_h15_items_per_order_vs_score; its result row, the Holm-adjusted p-value and the
-- verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H15'

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

{{ decile_detail_cte() }},

final as (

    select * from deciles

)

select * from final
order by x_decile
