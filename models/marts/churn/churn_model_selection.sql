-- One row: which model customer_churn takes its return probability from, and why. var churn_model = empirical,
-- bg_nbd, mbg_nbd, pareto_nbd or auto. A BTYD model is used only when clv_model_fit (purchases before the analysis
-- date) identifies it; otherwise churn stays empirical and the reason says so. auto = the identified BTYD model
-- with the lowest Brier score on churn_backtest's like-for-like scope ('btyd months': the same customers and
-- month ends as empirical) if it is below empirical's, else empirical.

{%- set requested = churn_model() %}
{%- set names = {'bg_nbd': 'BG/NBD', 'mbg_nbd': 'MBG/NBD', 'pareto_nbd': 'Pareto/NBD'} %}

with

model_fit as (

    select * from {{ ref('clv_model_fit') }}
    where model in ('bg_nbd', 'mbg_nbd', 'pareto_nbd')

),

backtest as (

    select * from {{ ref('churn_backtest') }}
    where scope = 'btyd months'

),

empirical_backtest as (

    select max(brier_score) as empirical_brier_score
    from backtest
    where model = 'empirical'

),

candidates as (

    select
        model_fit.model,
        model_fit.fit_date,
        model_fit.is_identified,
        model_fit.verdict,
        model_fit.verdict_reason,
        backtest.brier_score,
        empirical_backtest.empirical_brier_score,
        row_number() over (
            order by
                case when model_fit.is_identified and backtest.brier_score is not null then 0 else 1 end,
                backtest.brier_score,
                model_fit.model
        ) as brier_rank
    from model_fit
    left join backtest
        on model_fit.model = backtest.model
    cross join empirical_backtest

),

-- read by the auto branch of chosen only (the default churn_model renders the other branch)
best as (  -- noqa: ST03

    select *
    from candidates
    where brier_rank = 1

),

chosen as (

    {%- if requested == 'empirical' %}
    select
        'empirical' as model_used,
        {{ sql_string("var churn_model = empirical: Kaplan-Meier on the shop's own gaps between purchase days") }} as churn_model_reason -- noqa: LT05
    {%- elif requested == 'auto' %}
    select
        case
            when is_identified and brier_score < empirical_brier_score then model
            else 'empirical'
        end as model_used,
        case
            when is_identified and brier_score < empirical_brier_score
                then {{ dbt.concat([
                    "'var churn_model = auto: '", "model",
                    "' has the lowest Brier score on the backtest dates the BTYD models are scored at ('",
                    "cast(cast(brier_score as decimal(8, 5)) as " ~ dbt.type_string() ~ ")", "' vs '",
                    "cast(cast(empirical_brier_score as decimal(8, 5)) as " ~ dbt.type_string() ~ ")",
                    "' for empirical) and is identified on the purchases before '",
                    "cast(fit_date as " ~ dbt.type_string() ~ ")"
                ]) }}
            when empirical_brier_score is null or brier_score is null
                then 'var churn_model = auto: empirical, as no BTYD model was both identified at the analysis date and scored on the backtest (churn_backtest says why)'
            else {{ dbt.concat([
                "'var churn_model = auto: empirical, as no identified BTYD model beat its Brier score '",
                "cast(cast(empirical_brier_score as decimal(8, 5)) as " ~ dbt.type_string() ~ ")",
                "' on the backtest dates the BTYD models are scored at (best: '", "model", "' '",
                "cast(cast(brier_score as decimal(8, 5)) as " ~ dbt.type_string() ~ ")", "')'"
            ]) }}
        end as churn_model_reason
    from best
    {%- else %}
    select
        case when is_identified then model else 'empirical' end as model_used,
        case
            when is_identified
                then {{ dbt.concat([
                    "'var churn_model = " ~ requested ~ ": P(no purchase within the horizon) of the " ~ names[requested]
                        ~ " model of clv_model_fit, identified on the purchases before '",
                    "cast(fit_date as " ~ dbt.type_string() ~ ")"
                ]) }}
            else {{ dbt.concat([
                "'var churn_model = " ~ requested ~ ", but " ~ requested ~ " is not identified on the purchases before the analysis date ('",
                "verdict", "': '", "coalesce(verdict_reason, '')", "'): churn stays empirical'"
            ]) }}
        end as churn_model_reason
    from candidates
    where model = '{{ requested }}'
    {%- endif %}

),

final as (

    select
        '{{ requested }}' as requested_model,
        model_used,
        churn_model_reason
    from chosen

)

select * from final
