-- One row per customer with a purchase before the analysis date: the chance they buy again within var
-- churn_horizon_days, read from the Kaplan-Meier curve of the last snapshot month (int_churn__gap_survival) at
-- their purchase-count bucket and days of silence, and churn_risk from that probability with the absolute var
-- churn_risk_thresholds. With var churn_model = bg_nbd, mbg_nbd, pareto_nbd or auto, churn_model_selection may
-- name a BTYD model identified at the analysis date instead: its P(a purchase within the horizon) given the
-- customer's (frequency, recency, T) (int_churn__btyd_scores) replaces the Kaplan-Meier estimate, which stays in
-- empirical_return_probability. With the empirical model the last row of each customer in segment_snapshots
-- carries the same numbers (segment_snapshots is always empirical).

{%- set horizon = churn_horizon_days() %}

with

purchase_days as (

    select * from {{ ref('int_churn__purchase_days') }}

),

bucket_pools as (

    select * from {{ ref('int_churn__bucket_pools') }}

),

gap_survival as (

    select * from {{ ref('int_churn__gap_survival') }}

),

selection as (

    select * from {{ ref('churn_model_selection') }}

),

btyd_scores as (

    select * from {{ ref('int_churn__btyd_scores') }}

),

last_snapshot as (

    select
        max(snapshot_month) as snapshot_month,
        max(as_of_date) as as_of_date
    from bucket_pools

),

latest_purchase_days as (

    -- each customer's latest purchase day: its number is the customer's count of purchase days
    select
        customer_unique_id,
        purchase_date as last_purchase_date,
        purchase_day_number as purchase_days,
        purchase_day_bucket
    from purchase_days
    where next_purchase_date is null

),

states as (

    select
        latest_purchase_days.customer_unique_id,
        last_snapshot.snapshot_month,
        last_snapshot.as_of_date,
        latest_purchase_days.purchase_days,
        latest_purchase_days.last_purchase_date,
        {{ dbt.datediff('latest_purchase_days.last_purchase_date', 'last_snapshot.as_of_date', 'day') }} as days_silent, -- noqa: LT05
        latest_purchase_days.purchase_day_bucket
    from latest_purchase_days
    cross join last_snapshot

),

scored as (

    select
        states.*,
        bucket_pools.churn_bucket_label,
        gap_survival.return_probability,
        gap_survival.is_extrapolated
    from states
    inner join bucket_pools
        on states.snapshot_month = bucket_pools.snapshot_month
        and states.purchase_day_bucket = bucket_pools.purchase_day_bucket
    inner join gap_survival
        on bucket_pools.snapshot_month = gap_survival.snapshot_month
        and bucket_pools.churn_bucket = gap_survival.churn_bucket
        and states.days_silent = gap_survival.gap_days

),

chosen as (

    select
        scored.*,
        selection.requested_model,
        selection.model_used,
        selection.churn_model_reason,
        scored.return_probability as empirical_return_probability,
        case
            when selection.model_used = 'empirical' then scored.return_probability
            else btyd_scores.return_probability
        end as chosen_return_probability
    from scored
    cross join selection
    left join btyd_scores
        on scored.customer_unique_id = btyd_scores.customer_unique_id
        and selection.model_used = btyd_scores.model

),

final as (

    select
        customer_unique_id,
        as_of_date,
        purchase_days,
        last_purchase_date,
        days_silent,
        churn_bucket_label,
        chosen_return_probability as return_probability,
        1 - chosen_return_probability as churn_probability,
        {{ churn_risk_label('1 - chosen_return_probability') }} as churn_risk,
        model_used = 'empirical' and coalesce(is_extrapolated, false) as is_extrapolated,
        case
            when model_used = 'empirical'
                then {{ churn_reason('purchase_days', 'days_silent', 'churn_bucket_label', 'return_probability', 'is_extrapolated') }} -- noqa: LT05
            else {{ dbt.concat([
                "cast(purchase_days as " ~ dbt.type_string() ~ ")",
                "case when purchase_days = 1 then ' purchase day' else ' purchase days' end",
                "', silent '", "cast(days_silent as " ~ dbt.type_string() ~ ")",
                "case when days_silent = 1 then ' day' else ' days' end",
                "': the '", "model_used",
                "' model fit on the purchases before the analysis date gives '",
                "cast(" ~ churn_percent_text('chosen_return_probability') ~ " as " ~ dbt.type_string() ~ ")",
                "' % for a purchase within " ~ horizon ~ " days (Kaplan-Meier: '",
                "cast(" ~ churn_percent_text('empirical_return_probability') ~ " as " ~ dbt.type_string() ~ ")",
                "' %)'"
            ]) }}
        end as churn_reason,
        requested_model as churn_model,
        model_used as churn_model_used,
        churn_model_reason,
        empirical_return_probability
    from chosen

)

select * from final
