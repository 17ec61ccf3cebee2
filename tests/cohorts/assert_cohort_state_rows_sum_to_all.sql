-- For every (cohort, month), the state rows (state at first purchase) add up to the all-states row: cohort size,
-- active customers
-- and revenue. Any (cohort, month) present on one side only is a failure too.

with

retention as (

    select * from {{ ref('cohort_retention') }}

),

all_states as (

    select
        cohort_month,
        months_since_first,
        cohort_size,
        active_customers,
        revenue
    from retention
    where is_all_states

),

summed_states as (

    select
        cohort_month,
        months_since_first,
        sum(cohort_size) as cohort_size,
        sum(active_customers) as active_customers,
        sum(revenue) as revenue
    from retention
    where not is_all_states
    group by
        cohort_month,
        months_since_first

)

select
    coalesce(all_states.cohort_month, summed_states.cohort_month) as cohort_month,
    coalesce(all_states.months_since_first, summed_states.months_since_first) as months_since_first,
    all_states.cohort_size as all_cohort_size,
    summed_states.cohort_size as states_cohort_size,
    all_states.active_customers as all_active,
    summed_states.active_customers as states_active,
    all_states.revenue as all_revenue,
    summed_states.revenue as states_revenue
from all_states
full outer join summed_states
    on all_states.cohort_month = summed_states.cohort_month
    and all_states.months_since_first = summed_states.months_since_first
where all_states.cohort_month is null
    or summed_states.cohort_month is null
    or all_states.cohort_size <> summed_states.cohort_size
    or all_states.active_customers <> summed_states.active_customers
    or abs(all_states.revenue - summed_states.revenue) > 0.005
