-- Calibration of each churn model over all backtest month ends pooled (int_churn__backtest_groups): customers in
-- deciles of their predicted probability of buying again within var churn_horizon_days, with the mean prediction
-- and the observed share that did. A well calibrated model has the two equal in every decile. Tied predictions
-- stay in one decile (the decile of the first of them), so a decile may be empty and has no row: rfm_tier has
-- only three distinct predictions per month. scope 'all months' pools every backtest month end of the model;
-- 'btyd months' only the month ends the BTYD models are scored at (on or after their calibration_end), for
-- every model: the same customers and dates. No 'btyd months' rows when no BTYD model is scored.

with

groups as (

    select * from {{ ref('int_churn__backtest_groups') }}

),

btyd_months as (

    select distinct backtest_month
    from groups
    where model in ('bg_nbd', 'mbg_nbd', 'pareto_nbd')

),

scoped as (

    select
        'all months' as scope,
        groups.*
    from groups
    where groups.is_month_end
    union all
    select
        'btyd months' as scope,
        groups.*
    from groups
    inner join btyd_months
        on groups.backtest_month = btyd_months.backtest_month

),

predictions as (

    select
        scope,
        model,
        predicted_return_probability,
        sum(customer_count) as customer_count,
        sum(returned_count) as returned_count
    from scoped
    where predicted_return_probability is not null
    group by
        scope,
        model,
        predicted_return_probability

),

positions as (

    select
        predictions.*,
        coalesce(
            sum(customer_count) over (
                partition by scope, model
                order by predicted_return_probability
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as customers_before,
        sum(customer_count) over (partition by scope, model) as model_customers
    from predictions

),

deciles as (

    select
        positions.*,
        cast(
            floor(10 * cast(customers_before as {{ type_double() }}) / model_customers) as {{ dbt.type_int() }}
        ) + 1 as decile
    from positions

),

final as (

    select
        scope,
        model,
        decile,
        sum(customer_count) as customer_count,
        sum(returned_count) as returned_count,
        sum(customer_count * predicted_return_probability) / sum(customer_count) as mean_predicted_return_probability,
        cast(sum(returned_count) as {{ type_double() }}) / sum(customer_count) as observed_return_rate,
        min(predicted_return_probability) as min_predicted_return_probability,
        max(predicted_return_probability) as max_predicted_return_probability
    from deciles
    group by
        scope,
        model,
        decile

)

select * from final
