-- No holes: every (cohort, state) has exactly one row for each month from 0 to the last month with a
-- purchase in fct_orders (computed here independently of the model's spine), and every cohort month with
-- a first purchase has its all-states row.

with

retention as (

    select * from {{ ref('cohort_retention') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

last_purchase as (

    select max(purchase_date) as last_purchase_date
    from orders
    where is_purchase

),

first_purchases as (

    select
        customer_unique_id,
        min(purchase_date) as first_purchase_date
    from orders
    where is_purchase
    group by customer_unique_id

),

expected_cohorts as (

    select distinct {{ month_start('first_purchase_date') }} as cohort_month
    from first_purchases

),

series as (

    select
        cohort_month,
        customer_state,
        count(*) as month_rows,
        count(distinct months_since_first) as distinct_months,
        min(months_since_first) as first_month,
        max(months_since_first) as last_month
    from retention
    group by
        cohort_month,
        customer_state

),

wrong_series as (

    select
        series.cohort_month,
        series.customer_state,
        'months missing or repeated' as problem
    from series
    cross join last_purchase
    where series.first_month <> 0
        or series.last_month <> {{ calendar_month_diff('series.cohort_month', 'last_purchase.last_purchase_date') }}
        or series.month_rows <> series.last_month + 1
        or series.distinct_months <> series.month_rows

),

missing_cohorts as (

    select
        expected_cohorts.cohort_month,
        '{{ var("cohort_all_states_label") }}' as customer_state,
        'cohort missing' as problem
    from expected_cohorts
    left join series
        on expected_cohorts.cohort_month = series.cohort_month
        and series.customer_state = '{{ var("cohort_all_states_label") }}'
    where series.cohort_month is null

)

select * from wrong_series
union all
select * from missing_cohorts
