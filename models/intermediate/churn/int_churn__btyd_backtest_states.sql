-- The BTYD summary of every customer the BTYD churn models are backtested on, as known at the prediction date, and
-- whether they bought within var churn_horizon_days after it. Same definitions as int_clv__customer_summary with
-- the date's cutoff (as_of_date + 1) as the analysis date: btyd_frequency = repeat purchase DAYS, btyd_recency =
-- first to last purchase day, btyd_t = first purchase day to the cutoff, in units of var clv_time_unit_days.
-- Prediction dates: each month end with int_churn__backtest_months.is_btyd_month (every customer of
-- segment_snapshots there); or, when there is none, calibration_end itself (as_of_date = calibration_end - 1) if
-- its whole horizon lies in the data (is_calibration_end). That date is no month end, so its rows also carry the
-- empirical and rfm_tier predictions made with what was known then: the customers of the latest month end before
-- it (curve_month) at their state on as_of_date, the Kaplan-Meier curve of that month end (beyond the longest
-- silence the curve covers its constant-hazard tail gives the same probability, so the silence is capped there)
-- and that month end's rfm_tier.

{%- set horizon = churn_horizon_days() %}
{%- set unit = var('clv_time_unit_days') %}

with

snapshots as (

    select * from {{ ref('segment_snapshots') }}

),

purchase_days as (

    select * from {{ ref('int_churn__purchase_days') }}

),

backtest_months as (

    select * from {{ ref('int_churn__backtest_months') }}

),

bucket_pools as (

    select * from {{ ref('int_churn__bucket_pools') }}

),

gap_survival as (

    select * from {{ ref('int_churn__gap_survival') }}

),

months as (

    select * from backtest_months
    where is_btyd_month

),

last_date as (

    select max(as_of_date) as last_as_of_date
    from bucket_pools

),

fallback as {{ cte_materialized() }} (

    -- calibration_end itself, only when no month end qualifies and its horizon lies in the data
    select
        cast({{ dbt.dateadd('day', -1, 'fit.calibration_end') }} as date) as as_of_date,
        fit.calibration_end,
        (
            select max(earlier.snapshot_month)
            from backtest_months as earlier
            where earlier.as_of_date < fit.calibration_end
        ) as curve_month
    from (select max(calibration_end) as calibration_end from backtest_months) as fit
    cross join last_date
    where not exists (select 1 from months)
        and cast({{ dbt.dateadd('day', horizon - 1, 'fit.calibration_end') }} as date) <= last_date.last_as_of_date

),

first_purchase_days as (

    select
        customer_unique_id,
        purchase_date as first_purchase_date
    from purchase_days
    where purchase_day_number = 1

),

month_states as (

    -- each customer's latest purchase day known at the month end (as in int_churn__backtest_groups.outcomes)
    select
        snapshots.snapshot_month,
        snapshots.as_of_date,
        months.calibration_end,
        false as is_calibration_end,
        snapshots.customer_unique_id,
        purchase_days.purchase_date as last_purchase_date,
        purchase_days.purchase_day_number,
        purchase_days.next_purchase_date,
        cast(null as {{ type_double() }}) as empirical_return_probability,
        cast(null as {{ dbt.type_string() }}) as rfm_tier
    from snapshots
    inner join months
        on snapshots.snapshot_month = months.snapshot_month
    inner join purchase_days
        on snapshots.customer_unique_id = purchase_days.customer_unique_id
        and purchase_days.purchase_date = cast({{ dbt.dateadd('day', '-snapshots.days_silent', 'snapshots.as_of_date') }} as date) -- noqa: LT05

),

fallback_customers as (

    -- the customers of the latest month end before calibration_end, at their state on the day before it
    select
        fallback.as_of_date,
        fallback.calibration_end,
        fallback.curve_month,
        snapshots.customer_unique_id,
        snapshots.rfm_tier,
        purchase_days.purchase_date as last_purchase_date,
        purchase_days.purchase_day_number,
        purchase_days.purchase_day_bucket,
        purchase_days.next_purchase_date,
        {{ dbt.datediff('purchase_days.purchase_date', 'fallback.as_of_date', 'day') }} as days_silent -- noqa: LT05
    from fallback
    inner join snapshots
        on fallback.curve_month = snapshots.snapshot_month
    inner join purchase_days
        on snapshots.customer_unique_id = purchase_days.customer_unique_id
        and fallback.calibration_end > purchase_days.purchase_date
        and (purchase_days.next_purchase_date is null or fallback.calibration_end <= purchase_days.next_purchase_date)

),

curve_ends as (

    select
        snapshot_month,
        churn_bucket,
        max(gap_days) as max_gap_days
    from gap_survival
    where return_probability is not null
    group by
        snapshot_month,
        churn_bucket

),

fallback_lookups as (

    -- the curve day each customer reads: days silent, capped at the curve's last estimated day. Computed before
    -- the join to gap_survival so that join is an equality on (month, bucket, day): joined in one step, the
    -- least() of two tables was a filter over every curve day of the customer's month and bucket (3.1 billion
    -- rows at 10 M orders)
    select
        fallback_customers.*,
        curve_ends.churn_bucket,
        least(fallback_customers.days_silent, curve_ends.max_gap_days) as lookup_gap_days
    from fallback_customers
    inner join bucket_pools
        on fallback_customers.curve_month = bucket_pools.snapshot_month
        and fallback_customers.purchase_day_bucket = bucket_pools.purchase_day_bucket
    inner join curve_ends
        on bucket_pools.snapshot_month = curve_ends.snapshot_month
        and bucket_pools.churn_bucket = curve_ends.churn_bucket

),

fallback_states as (

    select
        fallback_lookups.as_of_date as snapshot_month,
        fallback_lookups.as_of_date,
        fallback_lookups.calibration_end,
        true as is_calibration_end,
        fallback_lookups.customer_unique_id,
        fallback_lookups.last_purchase_date,
        fallback_lookups.purchase_day_number,
        fallback_lookups.next_purchase_date,
        gap_survival.return_probability as empirical_return_probability,
        fallback_lookups.rfm_tier
    from fallback_lookups
    inner join gap_survival
        on fallback_lookups.curve_month = gap_survival.snapshot_month
        and fallback_lookups.churn_bucket = gap_survival.churn_bucket
        and fallback_lookups.lookup_gap_days = gap_survival.gap_days

),

states as (

    select * from month_states
    union all
    select * from fallback_states

),

final as (

    select
        states.snapshot_month,
        states.as_of_date,
        states.calibration_end,
        states.is_calibration_end,
        states.customer_unique_id,
        cast(states.purchase_day_number - 1 as {{ type_double() }}) as btyd_frequency,
        cast(
            {{ dbt.datediff('first_purchase_days.first_purchase_date', 'states.last_purchase_date', 'day') }}
            as {{ type_double() }}
        ) / {{ unit }} as btyd_recency,
        cast(
            {{ dbt.datediff('first_purchase_days.first_purchase_date', dbt.dateadd('day', 1, 'states.as_of_date'), 'day') }} -- noqa: LT05
            as {{ type_double() }}
        ) / {{ unit }} as btyd_t,
        case
            when states.next_purchase_date <= cast({{ dbt.dateadd('day', horizon, 'states.as_of_date') }} as date) then 1 -- noqa: LT05
            else 0
        end as returned,
        states.empirical_return_probability,
        states.rfm_tier
    from states
    inner join first_purchase_days
        on states.customer_unique_id = first_purchase_days.customer_unique_id

)

select * from final
