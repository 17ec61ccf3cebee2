-- The backtest's raw material: for each backtest month end (of the month ends whose whole horizon of var
-- churn_horizon_days lies on or before the last as_of_date and that have an earlier such month end to calibrate
-- rfm_tier on, the latest var churn_backtest_months) and each model, customers grouped
-- by their predicted probability of buying again within the horizon, with how many of them did.
--   empirical: 1 - segment_snapshots.churn_probability at that month end (the Kaplan-Meier curve of that month).
--   rfm_tier:  the month-end rfm_tier, as a probability = its tier's observed return rate over the earlier month
--              ends whose horizon had ended by this month end (null when there is none yet); score orders the
--              tiers high < medium < low for the ROC AUC.
-- Grouped by distinct prediction, so its size is months x models x distinct probabilities, not customers.

{%- set horizon = churn_horizon_days() %}

with

snapshots as (

    select * from {{ ref('segment_snapshots') }}

),

purchase_days as (

    select * from {{ ref('int_churn__purchase_days') }}

),

bucket_pools as (

    select * from {{ ref('int_churn__bucket_pools') }}

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

    -- month ends whose horizon (as_of_date + 1 .. as_of_date + H) lies within the data
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

backtest_months as (

    -- the latest ones that also have an earlier complete month end to calibrate rfm_tier on
    select
        complete_months.snapshot_month,
        complete_months.as_of_date
    from complete_months
    cross join first_complete
    where cast({{ dbt.dateadd('day', horizon, 'first_complete.first_as_of_date') }} as date) <= complete_months.as_of_date
        and complete_months.months_back <= {{ churn_backtest_months() }}

),

outcomes as {{ cte_inlined() }} (

    -- did the customer buy within the horizon after the month end? Their next purchase day after the latest one
    -- known at the month end is next_purchase_date of that latest purchase day.
    select
        snapshots.snapshot_month,
        snapshots.as_of_date,
        snapshots.churn_probability,
        snapshots.rfm_tier,
        case
            when purchase_days.next_purchase_date <= cast({{ dbt.dateadd('day', horizon, 'snapshots.as_of_date') }} as date)
                then 1
            else 0
        end as returned
    from snapshots
    inner join complete_months
        on snapshots.snapshot_month = complete_months.snapshot_month
    inner join purchase_days
        on snapshots.customer_unique_id = purchase_days.customer_unique_id
        and purchase_days.purchase_date = cast({{ dbt.dateadd('day', '-snapshots.days_silent', 'snapshots.as_of_date') }} as date)

),

tier_outcomes as (

    select
        snapshot_month,
        as_of_date,
        rfm_tier,
        count(*) as customer_count,
        sum(returned) as returned_count
    from outcomes
    group by
        snapshot_month,
        as_of_date,
        rfm_tier

),

tier_calibration as (

    -- each tier's return rate over the month ends whose outcome was known at the backtest month end
    select
        backtest_months.snapshot_month,
        tier_outcomes.rfm_tier,
        cast(sum(tier_outcomes.returned_count) as {{ type_double() }}) / sum(tier_outcomes.customer_count) as tier_return_rate
    from backtest_months
    inner join tier_outcomes
        on cast({{ dbt.dateadd('day', horizon, 'tier_outcomes.as_of_date') }} as date) <= backtest_months.as_of_date
    group by
        backtest_months.snapshot_month,
        tier_outcomes.rfm_tier

),

empirical_groups as (

    select
        outcomes.snapshot_month,
        'empirical' as model,
        1 - outcomes.churn_probability as predicted_return_probability,
        1 - outcomes.churn_probability as score,
        count(*) as customer_count,
        sum(outcomes.returned) as returned_count
    from outcomes
    inner join backtest_months
        on outcomes.snapshot_month = backtest_months.snapshot_month
    group by
        outcomes.snapshot_month,
        1 - outcomes.churn_probability

),

tier_groups as (

    select
        tier_outcomes.snapshot_month,
        'rfm_tier' as model,
        tier_calibration.tier_return_rate as predicted_return_probability,
        cast(case tier_outcomes.rfm_tier when 'high' then 0 when 'medium' then 1 else 2 end as {{ type_double() }}) as score,
        tier_outcomes.customer_count,
        tier_outcomes.returned_count
    from tier_outcomes
    inner join backtest_months
        on tier_outcomes.snapshot_month = backtest_months.snapshot_month
    left join tier_calibration
        on tier_outcomes.snapshot_month = tier_calibration.snapshot_month
        and tier_outcomes.rfm_tier = tier_calibration.rfm_tier

),

final as (

    select
        snapshot_month as backtest_month,
        model,
        cast(predicted_return_probability as {{ type_double() }}) as predicted_return_probability,
        score,
        cast(customer_count as {{ dbt.type_bigint() }}) as customer_count,
        cast(returned_count as {{ dbt.type_bigint() }}) as returned_count
    from empirical_groups
    union all
    select
        snapshot_month as backtest_month,
        model,
        cast(predicted_return_probability as {{ type_double() }}) as predicted_return_probability,
        score,
        cast(customer_count as {{ dbt.type_bigint() }}) as customer_count,
        cast(returned_count as {{ dbt.type_bigint() }}) as returned_count
    from tier_groups

)

select * from final
