-- One row per customer with a purchase before the analysis date: the buy-till-you-die summary (btyd_*:
-- purchase DAYS, not orders; see int_clv__customer_summary), expected purchase days over each var
-- clv_horizons_days, P(alive), expected order value and CLV over var clv_horizon_months discounted at var
-- clv_annual_discount_rate, and which model each figure comes from (clv_model_selection). p_alive is null
-- with p_alive_status saying why when no identified model backs it.

with

summary as (

    select * from {{ ref('int_clv__customer_summary') }}

),

scores as (

    select * from {{ ref('clv_history_scores') }}

),

selection as (

    select * from {{ ref('clv_model_selection') }}

),

final as (

    select
        summary.customer_unique_id,
        summary.analysis_date,
        summary.first_purchase_date,
        summary.last_purchase_date,
        summary.purchase_day_count,
        summary.btyd_frequency,
        summary.btyd_recency,
        summary.btyd_t,
        summary.btyd_monetary_value,
        summary.total_value,
        {%- for horizon in var('clv_horizons_days') %}
        cast(scores.expected_purchases_{{ horizon }}d as {{ type_double() }}) as expected_purchases_{{ horizon }}d,
        {%- endfor %}
        cast(scores.p_alive as {{ type_double() }}) as p_alive,
        case
            when selection.p_alive_model is not null then 'from ' || selection.p_alive_model
            else 'not reported: ' || selection.selection_reason
        end as p_alive_status,
        cast(scores.expected_order_value as {{ type_double() }}) as expected_order_value,
        cast(scores.clv as {{ type_double() }}) as clv,
        {{ var('clv_horizon_months') }} as clv_horizon_months,
        selection.purchases_model,
        selection.p_alive_model,
        selection.spend_model
    from summary
    -- every figure is a function of the customer's history, scored once per distinct history; the keys are the
    -- summary's columns as doubles, as clv_history_scores read them (null monetary value: one-time buyers)
    inner join scores
        on cast(summary.btyd_frequency as {{ type_double() }}) = scores.btyd_frequency
        and cast(summary.btyd_recency as {{ type_double() }}) = scores.btyd_recency
        and cast(summary.btyd_t as {{ type_double() }}) = scores.btyd_t
        and cast(summary.btyd_monetary_value as {{ type_double() }}) is not distinct from scores.btyd_monetary_value
    cross join selection

)

select * from final
