-- The cohorts partition the purchasing customers: summed over cohorts, month-0 cohort sizes of the
-- all-states rows equal the number of distinct customers with a purchase in fct_orders.

with

retention as (

    select * from {{ ref('cohort_retention') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

cohort_total as (

    select coalesce(sum(cohort_size), 0) as customers
    from retention
    where months_since_first = 0
        and customer_state = '{{ var("cohort_all_states_label") }}'

),

purchasing_customers as (

    select count(distinct customer_unique_id) as customers
    from orders
    where is_purchase

)

select
    cohort_total.customers as customers_in_cohorts,
    purchasing_customers.customers as purchasing_customers
from cohort_total
cross join purchasing_customers
where cohort_total.customers <> purchasing_customers.customers
