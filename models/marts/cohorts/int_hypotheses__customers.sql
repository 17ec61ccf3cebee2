with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

first_purchases as (

    select * from orders
    where purchase_number = 1

),

reviews_by_customer as (

    select
        customer_unique_id,
        sum(case when has_review then 1 else 0 end) as reviewed_purchases
    from orders
    group by customer_unique_id

),

final as (

    -- one row per purchasing customer; every input is already one row per customer
    select
        customers.customer_unique_id,
        customers.customer_city,
        {{ is_large_city('customers.customer_city') }} as is_large_city,
        customers.purchase_count,
        customers.purchase_count >= 2 as is_repeat_customer,
        reviews_by_customer.reviewed_purchases,
        cast(reviews_by_customer.reviewed_purchases as {{ type_double() }}) / customers.purchase_count as reviewed_share,
        first_purchases.purchased_at as first_purchase_at,
        first_purchases.purchase_iso_weekday as first_purchase_iso_weekday,
        first_purchases.delivery_days as first_purchase_delivery_days,
        first_purchases.mean_item_price as first_purchase_mean_item_price,
        first_purchases.has_review as first_purchase_reviewed
    from customers
    inner join first_purchases
        on customers.customer_unique_id = first_purchases.customer_unique_id
    inner join reviews_by_customer
        on customers.customer_unique_id = reviews_by_customer.customer_unique_id

)

select * from final
