{#- The data-quality rules of the raw order_payments file (rows of data_quality_exclusions): exact duplicates, and
    payments whose order is unknown (excluded). -#}

with

source_order_payments as (

    select * from {{ source('olist', 'order_payments') }}

),

order_payments as (

    select * from {{ ref('stg_olist__order_payments') }}

),

orders as (

    select * from {{ ref('stg_olist__orders') }}

),

table_rows as (

    {{ quality_counts('source_order_payments', 'payment_value') }}

),

staging_rows as (

    {{ quality_counts('order_payments', 'payment_value') }}

),

exact_duplicates as (

    {{ quality_exact_duplicates('order_payments') }}

),

-- payments whose order is not in the orders file: they cannot be attributed and never reach fct_orders

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

rules as (

    select * from exact_duplicates
    union all
    select * from payments_of_unknown_orders

),

final as (

    {{ quality_rule_rows() }}

)

select * from final
