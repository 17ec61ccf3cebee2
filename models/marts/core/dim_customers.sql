with

orders as (

    select * from {{ ref('fct_orders') }}

),

latest_order_ranked as (

    -- where the customer lives now: the address of their latest order
    select
        customer_unique_id,
        customer_state,
        customer_region,
        customer_city,
        customer_zip_code_prefix,
        customer_lat,
        customer_lng,
        row_number() over (
            partition by customer_unique_id
            order by purchased_at desc, order_id desc
        ) as row_num
    from orders
    where customer_unique_id is not null

),

latest_order as (

    select * from latest_order_ranked
    where row_num = 1

),

order_summary as (

    select
        customer_unique_id,
        count(*) as order_count,
        sum(case when is_purchase then 1 else 0 end) as purchase_count,
        sum(case when is_purchase then payment_value else 0 end) as purchase_value,
        -- cancelled and returned money, kept apart: never netted into purchase_value (monetary)
        sum(returns_value) as returns_value,
        min(purchased_at) as first_order_at,
        min(case when is_purchase then purchased_at end) as first_purchase_at,
        max(case when is_purchase then purchased_at end) as last_purchase_at
    from orders
    where customer_unique_id is not null
    group by customer_unique_id

),

final as (

    select
        order_summary.customer_unique_id,
        latest_order.customer_state,
        latest_order.customer_region,
        latest_order.customer_city,
        latest_order.customer_zip_code_prefix,
        latest_order.customer_lat,
        latest_order.customer_lng,
        order_summary.order_count,
        order_summary.purchase_count,
        order_summary.purchase_value,
        order_summary.returns_value,
        order_summary.purchase_count > 0 as has_purchased,
        order_summary.first_order_at,
        order_summary.first_purchase_at,
        order_summary.last_purchase_at
    from order_summary
    inner join latest_order
        on order_summary.customer_unique_id = latest_order.customer_unique_id

)

select * from final
