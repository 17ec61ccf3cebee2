{#- The order grain every mart reads, from either input layout (var input_format):
    - olist: orders joined with the customer and the items, payments and reviews rollups (below);
    - transactions: int_transactions__orders, the lines of one transactions table rolled up to orders, in the
      same columns (Olist-only ones null).
    has_purchase_lines and returns_value come from the transactions layout (Olist: true and 0). -#}
{%- if input_format() == 'transactions' %}

with

transaction_orders as (

    select * from {{ ref('int_transactions__orders') }}

),

final as (

    select * from transaction_orders

)

select * from final
{%- else %}

with

orders as (

    select * from {{ ref('stg_olist__orders') }}

),

customers as (

    select * from {{ ref('stg_olist__customers') }}

),

items_by_order as (

    select * from {{ ref('int_order_items__by_order') }}

),

payments_by_order as (

    select * from {{ ref('int_order_payments__by_order') }}

),

reviews_by_order as (

    select * from {{ ref('int_order_reviews__by_order') }}

),

final as (

    -- every right-hand side is at most one row per order (or per customer_id): the order grain holds
    select
        orders.order_id,
        orders.customer_id,
        customers.customer_unique_id,
        orders.order_status,
        orders.purchased_at,
        orders.approved_at,
        orders.delivered_carrier_at,
        orders.delivered_customer_at,
        orders.estimated_delivery_at,
        customers.customer_zip_code_prefix,
        customers.customer_city,
        customers.customer_state,
        coalesce(items_by_order.item_count, 0) as item_count,
        coalesce(items_by_order.distinct_products, 0) as distinct_products,
        coalesce(items_by_order.distinct_sellers, 0) as distinct_sellers,
        coalesce(items_by_order.items_value, 0) as items_value,
        coalesce(items_by_order.freight_value, 0) as freight_value,
        items_by_order.main_product_category,
        items_by_order.main_seller_id,
        items_by_order.main_seller_state,
        coalesce(payments_by_order.payment_count, 0) as payment_count,
        coalesce(payments_by_order.payment_value, 0) as payment_value,
        coalesce(payments_by_order.credit_card_value, 0) as credit_card_value,
        coalesce(payments_by_order.boleto_value, 0) as boleto_value,
        coalesce(payments_by_order.voucher_value, 0) as voucher_value,
        coalesce(payments_by_order.debit_card_value, 0) as debit_card_value,
        payments_by_order.main_payment_type,
        payments_by_order.payment_installments,
        coalesce(reviews_by_order.review_count, 0) as review_count,
        reviews_by_order.review_score,
        reviews_by_order.mean_review_score,
        reviews_by_order.review_created_at,
        -- the Olist export has no line-level purchase rules or returns: a purchase is decided by status alone
        true as has_purchase_lines,
        cast(0 as decimal(18, 2)) as returns_value
    from orders
    left join customers
        on orders.customer_id = customers.customer_id
    left join items_by_order
        on orders.order_id = items_by_order.order_id
    left join payments_by_order
        on orders.order_id = payments_by_order.order_id
    left join reviews_by_order
        on orders.order_id = reviews_by_order.order_id

)

select * from final
{%- endif %}
