-- The cohort of every customer is the calendar month of dim_customers.first_purchase_at, and the
-- customer's state is the one dim_customers holds.

with

customer_months as (

    select * from {{ ref('int_cohorts__customer_months') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

)

select
    customer_months.customer_unique_id,
    customer_months.cohort_month,
    customers.first_purchase_at,
    customer_months.customer_state,
    customers.customer_state as dim_customer_state
from customer_months
left join customers
    on customer_months.customer_unique_id = customers.customer_unique_id
where customers.customer_unique_id is null
    or customer_months.cohort_month <> {{ month_start('customers.first_purchase_at') }}
    or customer_months.customer_state <> customers.customer_state
