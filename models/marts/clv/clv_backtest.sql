-- One row per model of the lifetime-value backtest: every BTYD transaction model (with its calibration
-- verdict; error columns null where it was not identified) and the naive baseline (each customer keeps their
-- calibration rate). tracking_mape: mean over held-out periods of |predicted - actual| / actual cumulative
-- repeat purchase days (periods with no actual purchase yet are left out); bias: (predicted - actual) / actual
-- over the whole held-out period. clv_model_selection picks the identified model with the smallest tracking_mape.

with

fits as (

    select * from {{ ref('clv_backtest_fit') }}

),

detail as (

    select * from {{ ref('clv_backtest_detail') }}

),

backtest_customers as (

    select * from {{ ref('int_clv__backtest_summary') }}

),

split as (

    select
        max(calibration_end) as calibration_end,
        max(holdout_end) as holdout_end,
        count(*) as backtest_customers
    from backtest_customers

),

models as (

    select
        model,
        is_identified,
        verdict,
        verdict_reason
    from fits
    where model <> 'gamma_gamma'

    union all

    select
        'naive' as model,
        true as is_identified,
        'baseline' as verdict,
        'Each customer keeps the rate of repeat purchase days they had in the calibration period.' as verdict_reason

),

errors as (

    select
        model,
        sum(case when grain = 'period' then actual else 0 end) as actual_purchase_days,
        sum(case when grain = 'period' then predicted else 0 end) as predicted_purchase_days,
        avg(
            case
                when grain = 'period' and actual_cumulative > 0
                    then abs(predicted_cumulative - actual_cumulative) / actual_cumulative
            end
        ) as tracking_mape
    from detail
    group by model

),

naive as (

    select tracking_mape as naive_tracking_mape
    from errors
    where model = 'naive'

),

final as (

    select
        models.model,
        split.calibration_end,
        split.holdout_end,
        split.backtest_customers,
        models.is_identified,
        models.verdict,
        models.verdict_reason,
        errors.actual_purchase_days,
        errors.predicted_purchase_days,
        case
            when errors.actual_purchase_days > 0
                then (errors.predicted_purchase_days - errors.actual_purchase_days) / errors.actual_purchase_days
        end as bias,
        errors.tracking_mape,
        case
            when models.model <> 'naive' and errors.tracking_mape is not null and naive.naive_tracking_mape is not null
                then errors.tracking_mape < naive.naive_tracking_mape
        end as beats_naive
    from models
    cross join split
    left join errors
        on models.model = errors.model
    left join naive
        on true

)

select * from final
