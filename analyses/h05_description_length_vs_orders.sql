-- H05 · Products with longer descriptions get more orders.
-- Grain: product purchased at least once. Pearson r, Fisher-z interval and p-value.
-- Detail rows of the model hypothesis_h05_description_length_vs_orders; its result row, the Holm-adjusted p-value and
-- the verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H05'

with

products as (

    select * from {{ ref('int_hypotheses__products') }}

),

units as (

    select
        product_description_length as x,
        purchase_orders as y
    from products

),

{{ decile_detail_cte() }},

final as (

    select * from deciles

)

select * from final
order by x_decile
