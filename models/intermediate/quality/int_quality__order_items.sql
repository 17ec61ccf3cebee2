{#- The data-quality rules of the raw order_items file (rows of data_quality_exclusions): exact duplicates, and
    items whose order is unknown (excluded) or whose product or seller is unknown (kept with a default). -#}

with

source_order_items as (

    select * from {{ source('olist', 'order_items') }}

),

order_items as (

    select * from {{ ref('stg_olist__order_items') }}

),

orders as (

    select * from {{ ref('stg_olist__orders') }}

),

products as (

    select * from {{ ref('stg_olist__products') }}

),

sellers as (

    select * from {{ ref('stg_olist__sellers') }}

),

table_rows as (

    {{ quality_counts('source_order_items', 'price + freight_value') }}

),

staging_rows as (

    {{ quality_counts('order_items', 'price + freight_value') }}

),

exact_duplicates as (

    {{ quality_exact_duplicates('order_items') }}

),

-- items whose order is not in the orders file: they cannot be attributed and never reach fct_orders

items_of_unknown_orders as (

    select
        'order_items_of_unknown_order' as rule_name,
        'order_items' as table_name,
        'excluded' as outcome,
        count(*) as affected_rows,
        coalesce(sum(order_items.price + order_items.freight_value), 0) as affected_value,
        'Items whose order_id is not in the orders file: left out of fct_orders and every mart.' as rule_description
    from order_items
    left join orders
        on order_items.order_id = orders.order_id
    where orders.order_id is null

),

-- items kept with a default because their product or seller is unknown

items_of_unknown_products as (

    select
        'order_items_of_unknown_product' as rule_name,
        'order_items' as table_name,
        'defaulted' as outcome,
        count(*) as affected_rows,
        coalesce(sum(order_items.price + order_items.freight_value), 0) as affected_value,
        {{ sql_string("Items whose product_id is not in the products file: kept, category 'uncategorized'.") }} as rule_description -- noqa: LT05
    from order_items
    left join products
        on order_items.product_id = products.product_id
    where products.product_id is null

),

items_of_unknown_sellers as (

    select
        'order_items_of_unknown_seller' as rule_name,
        'order_items' as table_name,
        'defaulted' as outcome,
        count(*) as affected_rows,
        coalesce(sum(order_items.price + order_items.freight_value), 0) as affected_value,
        'Items whose seller_id is not in the sellers file: kept, seller state unknown.' as rule_description
    from order_items
    left join sellers
        on order_items.seller_id = sellers.seller_id
    where sellers.seller_id is null

),

rules as (

    select * from exact_duplicates
    union all
    select * from items_of_unknown_orders
    union all
    select * from items_of_unknown_products
    union all
    select * from items_of_unknown_sellers

),

final as (

    {{ quality_rule_rows() }}

)

select * from final
