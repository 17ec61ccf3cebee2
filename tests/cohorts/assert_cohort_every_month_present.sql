-- No holes: every (cohort, state at first purchase) has exactly one row for each month from 0 to the month
-- holding the day before the analysis date (computed here independently of the model's spine), every cohort
-- month with a first purchase before the analysis date has its all-states row, and exactly the last month
-- of every series is incomplete unless the analysis date is the first day of a month.

with

retention as (

    select * from {{ ref('cohort_retention') }}

),

purchases as (

    -- purchases before the analysis date
    select * from {{ ref('int_segmentation__purchases') }}

),

last_purchase as (

    select
        {{ dbt.dateadd('day', -1, 'max(analysis_date)') }} as last_purchase_date,
        max(analysis_date) as analysis_date
    from purchases

),

first_purchases as (

    select
        customer_unique_id,
        min(purchase_date) as first_purchase_date
    from purchases
    group by customer_unique_id

),

expected_cohorts as (

    select distinct {{ month_start('first_purchase_date') }} as cohort_month
    from first_purchases

),

series as (

    select
        cohort_month,
        first_purchase_state,
        count(*) as month_rows,
        count(distinct months_since_first) as distinct_months,
        min(months_since_first) as first_month,
        max(months_since_first) as last_month,
        sum(case when is_complete_period then 0 else 1 end) as incomplete_months,
        max(case when is_complete_period then -1 else months_since_first end) as last_incomplete_month
    from retention
    group by
        cohort_month,
        first_purchase_state

),

wrong_series as (

    select
        series.cohort_month,
        series.first_purchase_state,
        'months missing or repeated, or wrong months incomplete' as problem
    from series
    cross join last_purchase
    where series.first_month <> 0
        or series.last_month <> {{ calendar_month_diff('series.cohort_month', 'last_purchase.last_purchase_date') }}
        or series.month_rows <> series.last_month + 1
        or series.distinct_months <> series.month_rows
        or series.incomplete_months <> case
            when {{ dbt.date_trunc('month', 'last_purchase.analysis_date') }} = last_purchase.analysis_date then 0
            else 1
        end
        or (series.incomplete_months = 1 and series.last_incomplete_month <> series.last_month)

),

missing_cohorts as (

    select
        expected_cohorts.cohort_month,
        '{{ var("cohort_all_states_label") }}' as first_purchase_state,
        'cohort missing' as problem
    from expected_cohorts
    left join series
        on expected_cohorts.cohort_month = series.cohort_month
        and series.first_purchase_state = '{{ var("cohort_all_states_label") }}'
    where series.cohort_month is null

)

select * from wrong_series
union all
select * from missing_cohorts
