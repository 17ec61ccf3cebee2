-- How well each churn model foresaw who bought again: per backtest month end and model, and pooled over all
-- backtest months ("all months" rows, backtest_month null), the predicted vs the observed share buying again
-- within var churn_horizon_days, the Brier score (mean squared error of the predicted probability; compared
-- with always predicting the observed rate), the ROC AUC (chance that a customer who bought again was ranked
-- above one who did not, ties count half) and the verdict in words. New models add rows, not columns.
-- The BTYD models (bg_nbd, mbg_nbd, pareto_nbd) are scored only at the month ends on or after the calibration_end
-- of their fit (clv_backtest_fit, purchases before it), so scope 'btyd months' pools every model over exactly
-- those month ends and customers: the like-for-like comparison. A BTYD model with no scored month end (not
-- identified on the calibration period, or no month end at or after calibration_end with a whole horizon before
-- the analysis date) gets one 'all months' row without metrics whose verdict says why. When no month end lies on
-- or after calibration_end, the models are compared at calibration_end itself (scope 'month', backtest_month =
-- the day before calibration_end), which the 'all months' pools of month ends leave out.

{%- set horizon = churn_horizon_days() %}

with

groups as (

    select * from {{ ref('int_churn__backtest_groups') }}

),

backtest_fit as (

    select * from {{ ref('clv_backtest_fit') }}
    where model in ('bg_nbd', 'mbg_nbd', 'pareto_nbd')

),

btyd_months as (

    select distinct backtest_month
    from groups
    where model in ('bg_nbd', 'mbg_nbd', 'pareto_nbd')

),

scoped as (

    select
        'month' as scope,
        backtest_month,
        backtest_month as source_month,
        model,
        predicted_return_probability,
        score,
        customer_count,
        returned_count
    from groups
    union all
    select
        'all months' as scope,
        cast(null as date) as backtest_month,
        backtest_month as source_month,
        model,
        predicted_return_probability,
        score,
        customer_count,
        returned_count
    from groups
    where is_month_end
    union all
    select
        'btyd months' as scope,
        cast(null as date) as backtest_month,
        groups.backtest_month as source_month,
        groups.model,
        groups.predicted_return_probability,
        groups.score,
        groups.customer_count,
        groups.returned_count
    from groups
    inner join btyd_months
        on groups.backtest_month = btyd_months.backtest_month

),

by_score as (

    select
        scope,
        backtest_month,
        model,
        score,
        sum(returned_count) as positives,
        sum(customer_count - returned_count) as negatives
    from scoped
    group by
        scope,
        backtest_month,
        model,
        score

),

ranked as (

    select
        by_score.*,
        coalesce(
            sum(negatives) over (
                partition by scope, backtest_month, model
                order by score
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as negatives_below
    from by_score

),

auc as (

    select
        scope,
        backtest_month,
        model,
        case
            when sum(positives) > 0 and sum(negatives) > 0
                then sum(positives * (negatives_below + 0.5 * negatives))
                    / (cast(sum(positives) as {{ type_double() }}) * sum(negatives))
        end as roc_auc
    from ranked
    group by
        scope,
        backtest_month,
        model

),

metrics as (

    select
        scope,
        backtest_month,
        model,
        count(distinct source_month) as backtest_months,
        min(source_month) as first_backtest_month,
        max(source_month) as last_backtest_month,
        sum(customer_count) as customer_count,
        sum(returned_count) as returned_count,
        cast(sum(returned_count) as {{ type_double() }}) / sum(customer_count) as observed_return_rate,
        case
            when count(predicted_return_probability) = count(*)
                then sum(customer_count * predicted_return_probability) / sum(customer_count)
        end as mean_predicted_return_probability,
        case
            when count(predicted_return_probability) = count(*)
                then sum(
                        returned_count * (1 - predicted_return_probability) * (1 - predicted_return_probability)
                        + (customer_count - returned_count)
                        * predicted_return_probability * predicted_return_probability
                    ) / sum(customer_count)
        end as brier_score
    from scoped
    group by
        scope,
        backtest_month,
        model

),

joined as (

    select
        metrics.*,
        metrics.observed_return_rate * (1 - metrics.observed_return_rate) as brier_score_constant_rate,
        auc.roc_auc,
        rfm_tier_auc.roc_auc as rfm_tier_roc_auc
    from metrics
    inner join auc
        on metrics.scope = auc.scope
        and coalesce(metrics.backtest_month, cast('1900-01-01' as date))
        = coalesce(auc.backtest_month, cast('1900-01-01' as date))
        and metrics.model = auc.model
    left join auc as rfm_tier_auc
        on metrics.scope = rfm_tier_auc.scope
        and coalesce(metrics.backtest_month, cast('1900-01-01' as date))
        = coalesce(rfm_tier_auc.backtest_month, cast('1900-01-01' as date))
        and rfm_tier_auc.model = 'rfm_tier'

),

texts as (

    select
        joined.*,
        case
            when brier_score_constant_rate > 0 then 1 - brier_score / brier_score_constant_rate
        end as brier_skill,
        coalesce(cast(cast(roc_auc as decimal(6, 3)) as {{ dbt.type_string() }}), 'n/a') as auc_text,
        cast(cast(rfm_tier_roc_auc as decimal(6, 3)) as {{ dbt.type_string() }}) as rfm_tier_auc_text,
        cast(cast(brier_score as decimal(8, 4)) as {{ dbt.type_string() }}) as brier_text,
        cast(cast(brier_score_constant_rate as decimal(8, 4)) as {{ dbt.type_string() }}) as brier_constant_text,
        cast({{ churn_percent_text('mean_predicted_return_probability') }} as {{ dbt.type_string() }}) as predicted_text, -- noqa: LT05
        cast({{ churn_percent_text('observed_return_rate') }} as {{ dbt.type_string() }}) as observed_text
    from joined

),

phrases as (

    select
        texts.*,
        case
            when model = 'rfm_tier' or rfm_tier_roc_auc is null or roc_auc is null then ''
            when roc_auc > rfm_tier_roc_auc + 0.01
                then {{ dbt.concat(["' vs '", "rfm_tier_auc_text", "' for rfm_tier: ranks who buys again better than rfm_tier'"]) }} -- noqa: LT05
            when roc_auc < rfm_tier_roc_auc - 0.01
                then {{ dbt.concat(["' vs '", "rfm_tier_auc_text", "' for rfm_tier: ranks who buys again worse than rfm_tier'"]) }} -- noqa: LT05
            else {{ dbt.concat(["' vs '", "rfm_tier_auc_text", "' for rfm_tier: ranks about as well as rfm_tier'"]) }}
        end as auc_comparison,
        case
            when roc_auc is null then ''
            when roc_auc >= 0.7 then ' (useful ranking)'
            when roc_auc > 0.55 then ' (weak ranking)'
            else ' (no better than chance)'
        end as auc_judgement,
        case
            when brier_score is null then '; no probability to score (no earlier month end with a complete horizon)'
            else {{ dbt.concat([
                "'; Brier '", "brier_text", "' vs '", "brier_constant_text",
                "' for always predicting the observed rate'",
                "case
                    when brier_score_constant_rate = 0 then ''
                    when brier_score < brier_score_constant_rate then ' (better calibrated than that)'
                    else ' (no better than that)'
                end",
                "'; predicted '", "predicted_text", "' % buy again within " ~ horizon ~ " days, '",
                "observed_text", "' % did'"
            ]) }}
        end as brier_phrase
    from texts

),

scored as (

    select
        scope,
        backtest_month,
        model,
        backtest_months,
        first_backtest_month,
        last_backtest_month,
        {{ horizon }} as horizon_days,
        customer_count,
        returned_count,
        observed_return_rate,
        mean_predicted_return_probability,
        brier_score,
        brier_score_constant_rate,
        brier_skill,
        roc_auc,
        {{ dbt.concat(["'AUC '", "auc_text", "auc_comparison", "auc_judgement", "brier_phrase"]) }} as verdict
    from phrases

),

not_scored as (

    -- BTYD transaction models without a scored month end: say why instead of leaving them out silently
    select
        'all months' as scope,
        cast(null as date) as backtest_month,
        backtest_fit.model,
        cast(null as {{ dbt.type_bigint() }}) as backtest_months,
        cast(null as date) as first_backtest_month,
        cast(null as date) as last_backtest_month,
        {{ horizon }} as horizon_days,
        cast(null as {{ dbt.type_bigint() }}) as customer_count,
        cast(null as {{ dbt.type_bigint() }}) as returned_count,
        cast(null as {{ type_double() }}) as observed_return_rate,
        cast(null as {{ type_double() }}) as mean_predicted_return_probability,
        cast(null as {{ type_double() }}) as brier_score,
        cast(null as {{ type_double() }}) as brier_score_constant_rate,
        cast(null as {{ type_double() }}) as brier_skill,
        cast(null as {{ type_double() }}) as roc_auc,
        case
            when not backtest_fit.is_identified
                then {{ dbt.concat([
                    "'not scored: not identified on the purchases before calibration_end '",
                    "coalesce(cast(backtest_fit.fit_date as " ~ dbt.type_string() ~ "), 'n/a')",
                    "' ('", "backtest_fit.verdict", "': '", "backtest_fit.verdict_reason", "'): no churn prediction from it'"
                ]) }}
            else {{ dbt.concat([
                "'not scored: identified on the purchases before calibration_end '",
                "cast(backtest_fit.fit_date as " ~ dbt.type_string() ~ ")",
                "', but neither a backtest month end on or after it nor calibration_end itself has a whole horizon of "
                    ~ horizon ~ " days before the analysis date (an earlier var clv_backtest_calibration_end or a"
                    ~ " larger clv_backtest_holdout_share gives it one)'"
            ]) }}
        end as verdict
    from backtest_fit
    where backtest_fit.model not in (select distinct groups.model from groups)

),

final as (

    select * from scored
    union all
    select * from not_scored

)

select * from final
