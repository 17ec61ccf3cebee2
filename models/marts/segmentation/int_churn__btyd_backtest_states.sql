-- The BTYD summary of every customer of segment_snapshots at each month end the BTYD churn models are backtested
-- on (int_churn__backtest_months.is_btyd_month), as known at that month end, and whether they bought within var
-- churn_horizon_days after it. Same definitions as int_clv__customer_summary with the month end's cutoff
-- (as_of_date + 1) as the analysis date: btyd_frequency = repeat purchase DAYS, btyd_recency = first to last
-- purchase day, btyd_t = first purchase day to the cutoff, in units of var clv_time_unit_days.

{%- set horizon = churn_horizon_days() %}

with

snapshots as (

    select * from {{ ref('segment_snapshots') }}

),

purchase_days as (

    select * from {{ ref('int_churn__purchase_days') }}

),

months as (

    select * from {{ ref('int_churn__backtest_months') }}
    where is_btyd_month

),

first_purchase_days as (

    select
        customer_unique_id,
        purchase_date as first_purchase_date
    from purchase_days
    where purchase_day_number = 1

),

states as (

    -- each customer's latest purchase day known at the month end (as in int_churn__backtest_groups.outcomes)
    select
        snapshots.snapshot_month,
        snapshots.as_of_date,
        months.calibration_end,
        snapshots.customer_unique_id,
        first_purchase_days.first_purchase_date,
        purchase_days.purchase_date as last_purchase_date,
        purchase_days.purchase_day_number,
        purchase_days.next_purchase_date
    from snapshots
    inner join months
        on snapshots.snapshot_month = months.snapshot_month
    inner join purchase_days
        on snapshots.customer_unique_id = purchase_days.customer_unique_id
        and purchase_days.purchase_date = cast({{ dbt.dateadd('day', '-snapshots.days_silent', 'snapshots.as_of_date') }} as date)
    inner join first_purchase_days
        on snapshots.customer_unique_id = first_purchase_days.customer_unique_id

),

final as (

    select
        snapshot_month,
        as_of_date,
        calibration_end,
        customer_unique_id,
        cast(purchase_day_number - 1 as {{ type_double() }}) as btyd_frequency,
        cast({{ dbt.datediff('first_purchase_date', 'last_purchase_date', 'day') }} as {{ type_double() }})
            / {{ var('clv_time_unit_days') }} as btyd_recency,
        cast({{ dbt.datediff('first_purchase_date', dbt.dateadd('day', 1, 'as_of_date'), 'day') }} as {{ type_double() }})
            / {{ var('clv_time_unit_days') }} as btyd_t,
        case
            when next_purchase_date <= cast({{ dbt.dateadd('day', horizon, 'as_of_date') }} as date) then 1
            else 0
        end as returned
    from states

)

select * from final
