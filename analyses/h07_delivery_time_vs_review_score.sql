-- H07 · Customer satisfaction (review score) depends on how fast the order was delivered.
-- Grain: delivered purchase order with a review. Pearson r, Fisher-z interval and p-value.
-- Detail rows of the model hypothesis_h07_delivery_time_vs_review_score; its result row, the Holm-adjusted p-value and
-- the verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H07'

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

{{ decile_detail_cte() }},

final as (

    select * from deciles

)

select * from final
order by x_decile
