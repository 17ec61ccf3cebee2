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

main_item_ranked as (

    -- the order's most expensive item names its category and seller
    select
        order_id,
        product_category as main_product_category,
        seller_id as main_seller_id,
        seller_state as main_seller_state,
        row_number() over (
            partition by order_id
            order by price desc, order_item_id asc
        ) as row_num
    from items_described

),

main_item as (

    select * from main_item_ranked
    where row_num = 1

),

by_order as (

    select
        order_id,
        count(*) as item_count,
        count(distinct product_id) as distinct_products,
        count(distinct seller_id) as distinct_sellers,
        sum(price) as items_value,
        sum(freight_value) as freight_value
    from items_described
    group by order_id

),

final as (

    select
        by_order.*,
        main_item.main_product_category,
        main_item.main_seller_id,
        main_item.main_seller_state
    from by_order
    inner join main_item
        on by_order.order_id = main_item.order_id

)

select * from final
