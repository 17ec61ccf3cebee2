with

order_items as (

    select * from {{ ref('stg_olist__order_items') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

products as (

    select * from {{ ref('stg_olist__products') }}

),

product_orders as (

    -- items rolled up to (product, order) first: three units of a product in one order are one order
    select
        order_items.product_id,
        order_items.order_id
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    where orders.is_purchase
    group by
        order_items.product_id,
        order_items.order_id

),

orders_by_product as (

    select
        product_id,
        count(*) as purchase_orders
    from product_orders
    group by product_id

),

final as (

    -- products purchased at least once (the Olist catalogue only lists products that sold)
    select
        products.product_id,
        products.product_category_name,
        products.product_photos_qty,
        products.product_description_length,
        orders_by_product.purchase_orders
    from orders_by_product
    inner join products
        on orders_by_product.product_id = products.product_id

)

select * from final
