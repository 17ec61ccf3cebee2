-- The month ends the churn backtest can score: those whose whole horizon of var churn_horizon_days
-- (as_of_date + 1 .. as_of_date + H) lies on or before the last as_of_date (is_complete, all of them), and among
-- them the latest var churn_backtest_months that also have an earlier complete month end to calibrate rfm_tier
-- on (is_backtest_month). is_btyd_month: a backtest month end whose cutoff (as_of_date + 1, the purchases known
-- at that month end end the day before) is on or after calibration_end of clv_backtest_fit, so the BTYD fit on
-- purchases before calibration_end uses no data after the month end it predicts from.

{%- set horizon = churn_horizon_days() %}

with

bucket_pools as (

    select * from {{ ref('int_churn__bucket_pools') }}

),

backtest_fit as (

    select max(fit_date) as calibration_end
    from {{ ref('clv_backtest_fit') }}

),

months as (

    select distinct
        snapshot_month,
        as_of_date
    from bucket_pools

),

last_date as (

    select max(as_of_date) as last_as_of_date
    from months

),

complete_months as (

    select
        months.snapshot_month,
        months.as_of_date,
        row_number() over (order by months.snapshot_month desc) as months_back
    from months
    cross join last_date
    where cast({{ dbt.dateadd('day', horizon, 'months.as_of_date') }} as date) <= last_date.last_as_of_date

),

first_complete as (

    select min(as_of_date) as first_as_of_date
    from complete_months

),

flagged as (

    select
        complete_months.snapshot_month,
        complete_months.as_of_date,
        cast(
            {{ dbt.dateadd('day', horizon, 'first_complete.first_as_of_date') }} as date
        ) <= complete_months.as_of_date and complete_months.months_back <= {{ churn_backtest_months() }}
            as is_backtest_month,
        backtest_fit.calibration_end
    from complete_months
    cross join first_complete
    cross join backtest_fit

),

final as (

    select
        snapshot_month,
        as_of_date,
        true as is_complete,
        is_backtest_month,
        calibration_end,
        coalesce(
            is_backtest_month and cast({{ dbt.dateadd('day', 1, 'as_of_date') }} as date) >= calibration_end,
            false
        ) as is_btyd_month
    from flagged

)

select * from final
