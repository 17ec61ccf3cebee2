-- The all-states rows hold all revenue of the purchases before the analysis date and one active
-- customer-month per distinct (customer, calendar month) with such a purchase.

with

retention as (

    select * from {{ ref('cohort_retention') }}

),

orders as (

    -- purchases before the analysis date
    select * from {{ ref('int_segmentation__purchases') }}

),

mart as (

    select
        coalesce(sum(revenue), 0) as revenue,
        coalesce(sum(active_customers), 0) as active_customer_months
    from retention
    where is_all_states

),

customer_months as (

    select distinct
        customer_unique_id,
        {{ month_start('purchase_date') }} as purchase_month
    from orders

),

expected as (

    select
        (select coalesce(sum(payment_value), 0) from orders) as revenue,
        (select count(*) from customer_months) as active_customer_months

)

select
    mart.revenue as mart_revenue,
    expected.revenue as expected_revenue,
    mart.active_customer_months as mart_active_customer_months,
    expected.active_customer_months as expected_active_customer_months
from mart
cross join expected
where abs(mart.revenue - expected.revenue) > 0.005
    or mart.active_customer_months <> expected.active_customer_months
