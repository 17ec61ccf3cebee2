-- One row: which model feeds each column of customer_lifetime_value, and why. var clv_model names a model
-- (bg_nbd, mbg_nbd, pareto_nbd), 'auto' (the transaction model identified on the whole history AND on the
-- backtest's calibration period with the smallest backtest tracking_mape), or 'empirical'.
-- p_alive_model: the requested (or auto-chosen) model when identified, else null: P(alive) is never taken from
-- a model the data do not identify. purchases_model: that model, else the best identified one, else
-- 'empirical'. spend_model: gamma_gamma when identified, else 'empirical' (the shop's mean money per repeat purchase
-- day).
{%- set allowed = ['auto', 'empirical', 'bg_nbd', 'mbg_nbd', 'pareto_nbd'] %}
{%- if var('clv_model') not in allowed %}
    {{ exceptions.raise_compiler_error("var clv_model must be one of " ~ allowed | join(', ') ~ ", got " ~ var('clv_model')) }}
{%- endif %}

with

fits as (

    select * from {{ ref('clv_model_fit') }}

),

backtest as (

    select * from {{ ref('clv_backtest') }}

),

candidates as (

    select
        fits.model,
        backtest.tracking_mape,
        row_number() over (order by backtest.tracking_mape, fits.model) as candidate_rank
    from fits
    inner join backtest
        on fits.model = backtest.model
    where fits.is_identified
        and backtest.is_identified
        and backtest.tracking_mape is not null

),

best as (

    select
        max(case when candidate_rank = 1 then model end) as best_model,
        max(case when candidate_rank = 1 then tracking_mape end) as best_tracking_mape
    from candidates

),

requested as (

    select
        '{{ var("clv_model") }}' as requested_model,
        {{ dbt.bool_or("case when model = '" ~ var('clv_model') ~ "' then is_identified end") }} as requested_is_identified, -- noqa: LT05
        max(case when model = '{{ var("clv_model") }}' then verdict_reason end) as requested_reason,
        {{ dbt.bool_or("case when model = 'gamma_gamma' then is_identified end") }} as gamma_gamma_is_identified,
        max(case when model = 'gamma_gamma' then verdict_reason end) as gamma_gamma_reason
    from fits

),

chosen as (

    select
        requested.*,
        best.best_model,
        best.best_tracking_mape,
        case
            when requested.requested_model = 'auto' then best.best_model
            when requested.requested_is_identified then requested.requested_model
        end as p_alive_model
    from requested
    cross join best

),

final as (

    select
        requested_model,
        p_alive_model,
        case
            when requested_model = 'empirical' then 'empirical'
            else coalesce(p_alive_model, best_model, 'empirical')
        end as purchases_model,
        case when gamma_gamma_is_identified then 'gamma_gamma' else 'empirical' end as spend_model,
        case
            when requested_model = 'empirical'
                then 'var clv_model = empirical: no BTYD model is used.'
            when requested_model = 'auto' and best_model is null
                then 'No transaction model was identified on both the whole history and the backtest calibration period: expected purchases are empirical and P(alive) is not reported.' -- noqa: LT05
            when requested_model = 'auto'
                then best_model || ' is identified and had the smallest backtest tracking error ('
                    || {{ rounded_text('100 * best_tracking_mape', 1) }} || ' %).'
            when requested_is_identified
                then requested_model || ' (var clv_model) is identified.'
            else requested_model || ' (var clv_model) is not identified: ' || coalesce(requested_reason, 'not fit')
                || ' P(alive) is not reported; expected purchases come from '
                || coalesce(best_model, 'the empirical fallback') || '.'
        end as selection_reason,
        case
            when gamma_gamma_is_identified then 'Gamma-Gamma is identified.'
            else 'Gamma-Gamma is not identified (' || coalesce(gamma_gamma_reason, 'not fit')
                || {{ sql_string("): expected order value is the shop's mean money per repeat purchase day (per purchase day when nobody repeated), the same for every customer.") }} -- noqa: LT05
        end as spend_reason
    from chosen

)

select * from final
