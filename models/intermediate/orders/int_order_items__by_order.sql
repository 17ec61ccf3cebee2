with

order_items as (

    select * from {{ ref('stg_olist__order_items') }}

),

products as (

    select * from {{ ref('stg_olist__products') }}

),

category_translation as (

    select * from {{ ref('stg_olist__category_translation') }}

),

sellers as (

    select * from {{ ref('stg_olist__sellers') }}

),

items_described as (

    -- each item gets at most one product, translation and seller row (all unique keys): no fan-out
    select
        order_items.order_id,
        order_items.order_item_id,
        order_items.product_id,
        order_items.seller_id,
        order_items.price,
        order_items.freight_value,
        coalesce(
            category_translation.product_category_name_english,
            products.product_category_name,
            'uncategorized'
        ) as product_category,
        sellers.seller_state
    from order_items
    left join products
        on order_items.product_id = products.product_id
    left join category_translation
        on products.product_category_name = category_translation.product_category_name
    left join sellers
        on order_items.seller_id = sellers.seller_id

),

by_order as (

    select
        order_id,
        count(*) as item_count,
        count(distinct product_id) as distinct_products,
        count(distinct seller_id) as distinct_sellers,
        sum(price) as items_value,
        sum(freight_value) as freight_value,
        -- the order's most expensive item (then the first by order_item_id) names its category and seller;
        -- (order_id, order_item_id) is unique and price not null (tests on stg_olist__order_items): no ties
        {{ value_at_max('product_category', ['price', '-order_item_id']) }} as main_product_category,
        {{ value_at_max('seller_id', ['price', '-order_item_id']) }} as main_seller_id,
        {{ value_at_max('seller_state', ['price', '-order_item_id']) }} as main_seller_state
    from items_described
    group by order_id

),

final as (

    select * from by_order

)

select * from final
