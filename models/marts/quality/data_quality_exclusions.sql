-- One row per data-quality rule: how many rows of which raw table the build deduplicated, excluded, defaulted or
-- merely reported, and how much money they carry. Counted by comparing each raw file with what the models kept,
-- so nothing leaves the marts without showing up here. Rates above var data_quality_thresholds warn or fail.

with

source_orders as (

    select * from {{ source('olist', 'orders') }}

),

source_order_items as (

    select * from {{ source('olist', 'order_items') }}

),

source_order_payments as (

    select * from {{ source('olist', 'order_payments') }}

),

source_order_reviews as (

    select * from {{ source('olist', 'order_reviews') }}

),

source_customers as (

    select * from {{ source('olist', 'customers') }}

),

source_products as (

    select * from {{ source('olist', 'products') }}

),

source_sellers as (

    select * from {{ source('olist', 'sellers') }}

),

source_geolocation as (

    select * from {{ source('olist', 'geolocation') }}

),

source_category_translation as (

    select * from {{ source('olist', 'category_translation') }}

),

orders as (

    select * from {{ ref('stg_olist__orders') }}

),

order_items as (

    select * from {{ ref('stg_olist__order_items') }}

),

order_payments as (

    select * from {{ ref('stg_olist__order_payments') }}

),

order_reviews as (

    select * from {{ ref('stg_olist__order_reviews') }}

),

customers as (

    select * from {{ ref('stg_olist__customers') }}

),

products as (

    select * from {{ ref('stg_olist__products') }}

),

sellers as (

    select * from {{ ref('stg_olist__sellers') }}

),

geolocation as (

    select * from {{ ref('stg_olist__geolocation') }}

),

category_translation as (

    select * from {{ ref('stg_olist__category_translation') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

-- rows (and money) of each raw file, and what staging kept of them after collapsing exact duplicates

table_rows as (

    select 'orders' as table_name, count(*) as source_rows, cast(null as {{ dbt.type_numeric() }}) as source_value
    from source_orders
    union all
    select 'order_items', count(*), coalesce(sum(price + freight_value), 0)
    from source_order_items
    union all
    select 'order_payments', count(*), coalesce(sum(payment_value), 0)
    from source_order_payments
    union all
    select 'order_reviews', count(*), null
    from source_order_reviews
    union all
    select 'customers', count(*), null
    from source_customers
    union all
    select 'products', count(*), null
    from source_products
    union all
    select 'sellers', count(*), null
    from source_sellers
    union all
    select 'geolocation', count(*), null
    from source_geolocation
    union all
    select 'category_translation', count(*), null
    from source_category_translation

),

staging_rows as (

    select 'orders' as table_name, count(*) as staging_rows, cast(null as {{ dbt.type_numeric() }}) as staging_value
    from orders
    union all
    select 'order_items', count(*), coalesce(sum(price + freight_value), 0)
    from order_items
    union all
    select 'order_payments', count(*), coalesce(sum(payment_value), 0)
    from order_payments
    union all
    select 'order_reviews', count(*), null
    from order_reviews
    union all
    select 'customers', count(*), null
    from customers
    union all
    select 'products', count(*), null
    from products
    union all
    select 'sellers', count(*), null
    from sellers
    union all
    select 'category_translation', count(*), null
    from category_translation

),

ordering_customers as (

    select distinct customer_id
    from orders

),

geolocation_points_kept as (

    select coalesce(sum(points), 0) as points
    from geolocation

),

exact_duplicates as (

    select
        table_rows.table_name || '_exact_duplicate_rows' as rule_name,
        table_rows.table_name,
        'deduplicated' as outcome,
        table_rows.source_rows - staging_rows.staging_rows as affected_rows,
        table_rows.source_value - staging_rows.staging_value as affected_value,
        'Rows identical to another row of the same file (after trimming ids): kept once.' as rule_description
    from table_rows
    inner join staging_rows
        on table_rows.table_name = staging_rows.table_name

),

-- child rows whose order is not in the orders file: they cannot be attributed and never reach fct_orders

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

payments_of_unknown_orders as (

    select
        'order_payments_of_unknown_order' as rule_name,
        'order_payments' as table_name,
        'excluded' as outcome,
        count(*) as affected_rows,
        coalesce(sum(order_payments.payment_value), 0) as affected_value,
        'Payments whose order_id is not in the orders file: left out of fct_orders and every mart.' as rule_description
    from order_payments
    left join orders
        on order_payments.order_id = orders.order_id
    where orders.order_id is null

),

reviews_of_unknown_orders as (

    select
        'order_reviews_of_unknown_order' as rule_name,
        'order_reviews' as table_name,
        'excluded' as outcome,
        count(*) as affected_rows,
        cast(null as {{ dbt.type_numeric() }}) as affected_value,
        'Reviews whose order_id is not in the orders file: left out of fct_orders and every mart.' as rule_description
    from order_reviews
    left join orders
        on order_reviews.order_id = orders.order_id
    where orders.order_id is null

),

customers_without_orders as (

    select
        'customers_without_orders' as rule_name,
        'customers' as table_name,
        'reported' as outcome,
        count(*) as affected_rows,
        cast(null as {{ dbt.type_numeric() }}) as affected_value,
        'customer_id rows that no order refers to: nothing to segment, so not in dim_customers.' as rule_description
    from customers
    left join ordering_customers
        on customers.customer_id = ordering_customers.customer_id
    where ordering_customers.customer_id is null

),

-- items kept with a default because their product or seller is unknown

items_of_unknown_products as (

    select
        'order_items_of_unknown_product' as rule_name,
        'order_items' as table_name,
        'defaulted' as outcome,
        count(*) as affected_rows,
        coalesce(sum(order_items.price + order_items.freight_value), 0) as affected_value,
        'Items whose product_id is not in the products file: kept, category ''uncategorized''.' as rule_description
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

geolocation_outside_brazil as (

    select
        'geolocation_outside_brazil' as rule_name,
        'geolocation' as table_name,
        'excluded' as outcome,
        table_rows.source_rows - geolocation_points_kept.points as affected_rows,
        cast(null as {{ dbt.type_numeric() }}) as affected_value,
        'Zip-prefix points with no coordinates or outside var brazil_bounds: not used for the prefix location.'
            as rule_description
    from table_rows
    cross join geolocation_points_kept
    where table_rows.table_name = 'geolocation'

),

-- orders kept as they are, reported because their money does not add up

payment_mismatches as (

    select
        'orders_payment_not_equal_order_value' as rule_name,
        'orders' as table_name,
        'reported' as outcome,
        count(*) as affected_rows,
        coalesce(sum(payment_minus_order_value), 0) as affected_value,
        'Orders with payments whose total differs from items + freight (vouchers, interest): kept, money = payments.'
            as rule_description
    from fct_orders
    where payment_count > 0
        and payment_minus_order_value <> 0

),

purchases_without_payment as (

    select
        'purchases_without_payment' as rule_name,
        'orders' as table_name,
        'defaulted' as outcome,
        count(*) as affected_rows,
        coalesce(sum(order_value), 0) as affected_value,
        'Purchases with no payment row: kept, payment (monetary value) defaulted to 0; affected_value = their items + freight.'
            as rule_description
    from fct_orders
    where is_purchase
        and payment_count = 0

),

purchases_without_items as (

    select
        'purchases_without_items' as rule_name,
        'orders' as table_name,
        'reported' as outcome,
        count(*) as affected_rows,
        coalesce(sum(payment_value), 0) as affected_value,
        'Purchases with no item row: kept, no product category (affected_value = their payments).' as rule_description
    from fct_orders
    where is_purchase
        and item_count = 0

),

rules as (

    select * from exact_duplicates
    union all
    select * from items_of_unknown_orders
    union all
    select * from payments_of_unknown_orders
    union all
    select * from reviews_of_unknown_orders
    union all
    select * from customers_without_orders
    union all
    select * from items_of_unknown_products
    union all
    select * from items_of_unknown_sellers
    union all
    select * from geolocation_outside_brazil
    union all
    select * from payment_mismatches
    union all
    select * from purchases_without_payment
    union all
    select * from purchases_without_items

),

final as (

    select
        rules.rule_name,
        rules.table_name,
        rules.outcome,
        rules.rule_description,
        table_rows.source_rows as table_rows,
        cast(rules.affected_rows as {{ dbt.type_bigint() }}) as affected_rows,
        case
            when table_rows.source_rows = 0 then cast(0 as {{ type_double() }})
            else cast(rules.affected_rows as {{ type_double() }}) / table_rows.source_rows
        end as affected_rate,
        cast(rules.affected_value as {{ dbt.type_numeric() }}) as affected_value
    from rules
    inner join table_rows
        on rules.table_name = table_rows.table_name

)

select * from final
