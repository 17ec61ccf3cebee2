-- The backtest's raw material: for each backtest month end (of the month ends whose whole horizon of var
-- churn_horizon_days lies on or before the last as_of_date and that have an earlier such month end to calibrate
-- rfm_tier on, the latest var churn_backtest_months) and each model, customers grouped
-- by their predicted probability of buying again within the horizon, with how many of them did.
--   empirical: 1 - segment_snapshots.churn_probability at that month end (the Kaplan-Meier curve of that month).
--   rfm_tier:  the month-end rfm_tier, as a probability = its tier's observed return rate over the earlier month
--              ends whose horizon had ended by this month end; a tier none of those month ends had (small shops:
--              early on every customer can share one tier) gets the return rate of all their customers; score
--              orders the tiers high < medium < low for the ROC AUC.
--   bg_nbd, mbg_nbd, pareto_nbd: P(a purchase within the horizon) from that model of clv_backtest_fit (fit on
--              purchases before calibration_end), for the month ends on or after it (int_churn__backtest_months.
--              is_btyd_month), on the same customers (int_churn__btyd_backtest_predictions).
-- When no backtest month end lies on or after calibration_end, the BTYD models are scored at calibration_end itself
-- (backtest_month = the day before it, is_month_end false), and empirical and rfm_tier there with what was known
-- then (int_churn__btyd_backtest_states); those rows are not part of the month-end pools ('all months').
-- Grouped by distinct prediction, rounded to 12 places (macro grouping_probability: the same groups on every
-- engine), so its size is months x models x distinct probabilities (for the BTYD models, whose predictions are
-- continuous in recency, about one group per customer and month end).

{%- set horizon = churn_horizon_days() %}

with

snapshots as (

    select * from {{ ref('segment_snapshots') }}

),

purchase_days as (

    select * from {{ ref('int_churn__purchase_days') }}

),

complete_months as (

    select * from {{ ref('int_churn__backtest_months') }}

),

backtest_months as (

    select * from complete_months
    where is_backtest_month

),

btyd_predictions as (

    select
        cast(snapshot_month as date) as snapshot_month,
        model,
        return_probability,
        returned
    from {{ ref('int_churn__btyd_backtest_predictions') }}

),

fallback_outcomes as (

    -- the calibration_end date (only when no month end qualifies and a BTYD model is scored there): the empirical
    -- and rfm_tier predictions made with what was known then (int_churn__btyd_backtest_states)
    select
        snapshot_month,
        as_of_date,
        empirical_return_probability,
        rfm_tier,
        returned
    from {{ ref('int_churn__btyd_backtest_states') }}
    where is_calibration_end
        and snapshot_month in (select distinct btyd_predictions.snapshot_month from btyd_predictions)

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
            when purchase_days.next_purchase_date <= cast({{ dbt.dateadd('day', horizon, 'snapshots.as_of_date') }} as date) -- noqa: LT05
                then 1
            else 0
        end as returned
    from snapshots
    inner join complete_months
        on snapshots.snapshot_month = complete_months.snapshot_month
    inner join purchase_days
        on snapshots.customer_unique_id = purchase_days.customer_unique_id
        and purchase_days.purchase_date = cast({{ dbt.dateadd('day', '-snapshots.days_silent', 'snapshots.as_of_date') }} as date) -- noqa: LT05

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
        sum(tier_outcomes.customer_count) as customer_count,
        sum(tier_outcomes.returned_count) as returned_count,
        cast(sum(tier_outcomes.returned_count) as {{ type_double() }})
        / sum(tier_outcomes.customer_count) as tier_return_rate
    from backtest_months
    inner join tier_outcomes
        on cast({{ dbt.dateadd('day', horizon, 'tier_outcomes.as_of_date') }} as date) <= backtest_months.as_of_date
    group by
        backtest_months.snapshot_month,
        tier_outcomes.rfm_tier

),

pooled_calibration as (

    -- the return rate of all customers of those month ends: the prediction for a tier they did not have
    select
        snapshot_month,
        cast(sum(returned_count) as {{ type_double() }}) / sum(customer_count) as pooled_return_rate
    from tier_calibration
    group by snapshot_month

),

fallback_tier_calibration as (

    select
        fallback_dates.snapshot_month,
        tier_outcomes.rfm_tier,
        sum(tier_outcomes.customer_count) as customer_count,
        sum(tier_outcomes.returned_count) as returned_count,
        cast(sum(tier_outcomes.returned_count) as {{ type_double() }})
        / sum(tier_outcomes.customer_count) as tier_return_rate
    from (
        select distinct
            snapshot_month,
            as_of_date
        from fallback_outcomes
    ) as fallback_dates
    inner join tier_outcomes
        on cast({{ dbt.dateadd('day', horizon, 'tier_outcomes.as_of_date') }} as date) <= fallback_dates.as_of_date
    group by
        fallback_dates.snapshot_month,
        tier_outcomes.rfm_tier

),

fallback_pooled_calibration as (

    select
        snapshot_month,
        cast(sum(returned_count) as {{ type_double() }}) / sum(customer_count) as pooled_return_rate
    from fallback_tier_calibration
    group by snapshot_month

),

fallback_groups as (

    select
        snapshot_month,
        'empirical' as model,
        {{ grouping_probability('empirical_return_probability') }} as predicted_return_probability,
        {{ grouping_probability('empirical_return_probability') }} as score,
        count(*) as customer_count,
        sum(returned) as returned_count
    from fallback_outcomes
    group by
        snapshot_month,
        {{ grouping_probability('empirical_return_probability') }}
    union all
    select
        fallback_outcomes.snapshot_month,
        'rfm_tier' as model,
        coalesce(
            fallback_tier_calibration.tier_return_rate, fallback_pooled_calibration.pooled_return_rate
        ) as predicted_return_probability,
        cast(
            case fallback_outcomes.rfm_tier when 'high' then 0 when 'medium' then 1 else 2 end as {{ type_double() }}
        ) as score,
        count(*) as customer_count,
        sum(fallback_outcomes.returned) as returned_count
    from fallback_outcomes
    left join fallback_tier_calibration
        on fallback_outcomes.snapshot_month = fallback_tier_calibration.snapshot_month
        and fallback_outcomes.rfm_tier = fallback_tier_calibration.rfm_tier
    left join fallback_pooled_calibration
        on fallback_outcomes.snapshot_month = fallback_pooled_calibration.snapshot_month
    group by
        fallback_outcomes.snapshot_month,
        coalesce(fallback_tier_calibration.tier_return_rate, fallback_pooled_calibration.pooled_return_rate),
        fallback_outcomes.rfm_tier

),

empirical_groups as (

    select
        outcomes.snapshot_month,
        'empirical' as model,
        {{ grouping_probability('1 - outcomes.churn_probability') }} as predicted_return_probability,
        {{ grouping_probability('1 - outcomes.churn_probability') }} as score,
        count(*) as customer_count,
        sum(outcomes.returned) as returned_count
    from outcomes
    inner join backtest_months
        on outcomes.snapshot_month = backtest_months.snapshot_month
    group by
        outcomes.snapshot_month,
        {{ grouping_probability('1 - outcomes.churn_probability') }}

),

tier_groups as (

    select
        tier_outcomes.snapshot_month,
        'rfm_tier' as model,
        coalesce(
            tier_calibration.tier_return_rate, pooled_calibration.pooled_return_rate
        ) as predicted_return_probability,
        cast(
            case tier_outcomes.rfm_tier when 'high' then 0 when 'medium' then 1 else 2 end as {{ type_double() }}
        ) as score,
        tier_outcomes.customer_count,
        tier_outcomes.returned_count
    from tier_outcomes
    inner join backtest_months
        on tier_outcomes.snapshot_month = backtest_months.snapshot_month
    left join tier_calibration
        on tier_outcomes.snapshot_month = tier_calibration.snapshot_month
        and tier_outcomes.rfm_tier = tier_calibration.rfm_tier
    left join pooled_calibration
        on tier_outcomes.snapshot_month = pooled_calibration.snapshot_month

),

btyd_groups as (

    -- BTYD models (identified in clv_backtest_fit) on the same customers of the same month ends (is_btyd_month)
    select
        snapshot_month,
        model,
        {{ grouping_probability('return_probability') }} as predicted_return_probability,
        {{ grouping_probability('return_probability') }} as score,
        count(*) as customer_count,
        sum(returned) as returned_count
    from btyd_predictions
    group by
        snapshot_month,
        model,
        {{ grouping_probability('return_probability') }}

),

groups as (

    select
        *,
        true as is_month_end
    from empirical_groups
    union all
    select
        *,
        true as is_month_end
    from tier_groups
    union all
    select
        *,
        btyd_groups.snapshot_month not in (
            select distinct fallback_outcomes.snapshot_month from fallback_outcomes
        ) as is_month_end
    from btyd_groups
    union all
    select
        *,
        false as is_month_end
    from fallback_groups

),

final as (

    select
        snapshot_month as backtest_month,
        model,
        cast(predicted_return_probability as {{ type_double() }}) as predicted_return_probability,
        score,
        cast(customer_count as {{ dbt.type_bigint() }}) as customer_count,
        cast(returned_count as {{ dbt.type_bigint() }}) as returned_count,
        is_month_end
    from groups

)

select * from final
