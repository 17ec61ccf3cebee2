{{ config(enabled=var('input_format', 'olist') == 'olist') }}
-- fct_orders must hold every raw order once, and exactly the raw money of those orders: any loss or fan-out
-- returns a row. Computed from the sources, independently of the models. What the build leaves out on purpose is
-- taken out of the raw side the same way (and counted in data_quality_exclusions): an exact duplicate row counts
-- once, and items and payments of an order that is not in the orders file cannot belong to any order.

with

raw_orders as (

    select distinct trim(order_id) as order_id
    from {{ source('olist', 'orders') }}

),

raw_items as (

    select distinct
        trim(order_id) as order_id,
        order_item_id,
        trim(product_id) as product_id,
        trim(seller_id) as seller_id,
        shipping_limit_date,
        price,
        freight_value
    from {{ source('olist', 'order_items') }}

),

raw_payments as (

    select distinct
        trim(order_id) as order_id,
        payment_sequential,
        lower(trim(payment_type)) as payment_type,
        payment_installments,
        payment_value
    from {{ source('olist', 'order_payments') }}

),

order_totals as (

    select count(*) as orders
    from raw_orders

),

item_totals as (

    select
        coalesce(sum(price), 0) as items_value,
        coalesce(sum(freight_value), 0) as freight_value
    from raw_items
    where raw_items.order_id in (select raw_orders.order_id from raw_orders)

),

payment_totals as (

    select coalesce(sum(payment_value), 0) as payment_value
    from raw_payments
    where raw_payments.order_id in (select raw_orders.order_id from raw_orders)

),

mart as (

    select
        count(*) as orders,
        count(distinct order_id) as distinct_orders,
        coalesce(sum(items_value), 0) as items_value,
        coalesce(sum(freight_value), 0) as freight_value,
        coalesce(sum(payment_value), 0) as payment_value
    from {{ ref('fct_orders') }}

),

comparison as (

    select
        'orders' as measure,
        order_totals.orders as raw_value,
        mart.orders as mart_value
    from order_totals cross join mart
    union all
    select
        'distinct_orders' as measure,
        order_totals.orders as raw_value,
        mart.distinct_orders as mart_value
    from order_totals cross join mart
    union all
    select
        'items_value' as measure,
        item_totals.items_value as raw_value,
        mart.items_value as mart_value
    from item_totals cross join mart
    union all
    select
        'freight_value' as measure,
        item_totals.freight_value as raw_value,
        mart.freight_value as mart_value
    from item_totals cross join mart
    union all
    select
        'payment_value' as measure,
        payment_totals.payment_value as raw_value,
        mart.payment_value as mart_value
    from payment_totals cross join mart

)

select * from comparison
where raw_value <> mart_value
