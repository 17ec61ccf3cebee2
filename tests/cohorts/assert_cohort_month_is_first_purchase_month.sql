-- The cohort of every customer is the calendar month of their first purchase before the analysis date, and
-- the state is the one of that first purchase order (earliest purchased_at, then order_id) in fct_orders,
-- picked here with min() instead of the model's row_number().

with

customer_months as (

    select * from {{ ref('int_cohorts__customer_months') }}

),

purchases as (

    select * from {{ ref('int_segmentation__purchases') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

first_purchase_times as (

    select
        customer_unique_id,
        min(purchased_at) as first_purchased_at
    from purchases
    group by customer_unique_id

),

first_orders as (

    select
        purchases.customer_unique_id,
        first_purchase_times.first_purchased_at,
        min(purchases.order_id) as first_order_id
    from purchases
    inner join first_purchase_times
        on purchases.customer_unique_id = first_purchase_times.customer_unique_id
        and purchases.purchased_at = first_purchase_times.first_purchased_at
    group by
        purchases.customer_unique_id,
        first_purchase_times.first_purchased_at

),

expected as (

    select
        first_orders.customer_unique_id,
        first_orders.first_purchased_at,
        orders.customer_state
    from first_orders
    inner join orders
        on first_orders.first_order_id = orders.order_id

)

select
    customer_months.customer_unique_id,
    customer_months.cohort_month,
    expected.first_purchased_at,
    customer_months.first_purchase_state,
    expected.customer_state as first_order_state
from customer_months
left join expected
    on customer_months.customer_unique_id = expected.customer_unique_id
where expected.customer_unique_id is null
    or customer_months.cohort_month is distinct from {{ month_start('expected.first_purchased_at') }}
    or customer_months.first_purchase_state is distinct from expected.customer_state
