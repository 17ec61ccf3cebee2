-- H05 · Products with longer descriptions get more orders.
-- Grain: product purchased at least once. Pearson r, Fisher-z interval and p-value.

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

{{ correlation_ctes('mean description length', 'mean orders per product') }},

{{ result_cte('pearson correlation', 'positive', 'pearson_r', hypothesis_verdict_rule('pearson_r', 'positive')) }},

final as (

    select
        {{ hypothesis_header('H05', 'product', 'Pearson r between the description length of a product (characters) and the number of orders that contain it') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
