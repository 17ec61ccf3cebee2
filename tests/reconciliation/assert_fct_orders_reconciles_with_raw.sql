-- fct_orders must hold every raw order once, and exactly the raw money: any loss or fan-out returns a row.

with

raw_orders as (

    select
        count(distinct order_id) as orders,
        count(*) as order_rows
    from {{ source('olist', 'orders') }}

),

raw_items as (

    select
        coalesce(sum(price), 0) as items_value,
        coalesce(sum(freight_value), 0) as freight_value
    from {{ source('olist', 'order_items') }}

),

raw_payments as (

    select coalesce(sum(payment_value), 0) as payment_value
    from {{ source('olist', 'order_payments') }}

),

mart as (

    select
        count(*) as orders,
        coalesce(sum(items_value), 0) as items_value,
        coalesce(sum(freight_value), 0) as freight_value,
        coalesce(sum(payment_value), 0) as payment_value
    from {{ ref('fct_orders') }}

),

comparison as (

    select 'orders' as measure, raw_orders.orders as raw_value, mart.orders as mart_value
    from raw_orders cross join mart
    union all
    select 'order_rows', raw_orders.order_rows, mart.orders
    from raw_orders cross join mart
    union all
    select 'items_value', raw_items.items_value, mart.items_value
    from raw_items cross join mart
    union all
    select 'freight_value', raw_items.freight_value, mart.freight_value
    from raw_items cross join mart
    union all
    select 'payment_value', raw_payments.payment_value, mart.payment_value
    from raw_payments cross join mart

)

select * from comparison
where raw_value <> mart_value
