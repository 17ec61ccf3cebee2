-- The cohorts partition the purchasing customers: summed over cohorts, month-0 cohort sizes of the
-- all-states rows, and of the state rows, each equal the number of distinct customers with a purchase before
-- the analysis date (int_segmentation__purchases).

with

retention as (

    select * from {{ ref('cohort_retention') }}

),

orders as (

    select * from {{ ref('int_segmentation__purchases') }}

),

cohort_total as (

    select
        coalesce(sum(case when is_all_states then cohort_size end), 0) as customers,
        coalesce(sum(case when not is_all_states then cohort_size end), 0) as state_customers
    from retention
    where months_since_first = 0

),

purchasing_customers as (

    select count(distinct customer_unique_id) as customers
    from orders

)

select
    cohort_total.customers as customers_in_cohorts,
    cohort_total.state_customers as customers_in_state_cohorts,
    purchasing_customers.customers as purchasing_customers
from cohort_total
cross join purchasing_customers
where cohort_total.customers <> purchasing_customers.customers
    or cohort_total.state_customers <> purchasing_customers.customers
