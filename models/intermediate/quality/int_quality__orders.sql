{#- The data-quality rules of the raw orders file (rows of data_quality_exclusions): exact duplicates, and the
    orders fct_orders keeps as they are but whose money does not add up (payments <> items + freight, purchases
    without a payment or without an item). Those read fct_orders: the rules report what the mart kept. -#}

with

source_orders as (

    select * from {{ source('olist', 'orders') }}

),

orders as (

    select * from {{ ref('stg_olist__orders') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

table_rows as (

    {{ quality_counts('source_orders') }}

),

staging_rows as (

    {{ quality_counts('orders') }}

),

exact_duplicates as (

    {{ quality_exact_duplicates('orders') }}

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
        'Purchases with no payment row: kept, payment (monetary value) defaulted to 0; affected_value = their items + freight.' -- noqa: LT05
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
    select * from payment_mismatches
    union all
    select * from purchases_without_payment
    union all
    select * from purchases_without_items

),

final as (

    {{ quality_rule_rows() }}

)

select * from final
