-- H02 · The number of product photos affects the number of orders.
-- Grain: product purchased at least once. Pearson r, Fisher-z interval and p-value.

with

products as (

    select * from {{ ref('int_hypotheses__products') }}

),

units as (

    select
        product_photos_qty as x,
        purchase_orders as y
    from products

),

{{ correlation_ctes('mean photos per product', 'mean orders per product') }},

{{ result_cte('pearson correlation', 'positive', 'pearson_r', hypothesis_verdict_rule('pearson_r', 'positive')) }},

final as (

    select
        {{ hypothesis_header('H02', 'product', 'Pearson r between the number of photos of a product and the number of purchases (orders) that contain it') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
