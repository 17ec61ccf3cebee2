-- One row per customer with a purchase before the analysis date: the chance they buy again within var
-- churn_horizon_days, read from the Kaplan-Meier curve of the last snapshot month (int_churn__gap_survival) at
-- their purchase-count bucket and days of silence, and churn_risk from that probability with the absolute var
-- churn_risk_thresholds. The last row of each customer in segment_snapshots carries the same numbers.

{%- set model = churn_model() %}

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
        {{ dbt.datediff('latest_purchase_days.last_purchase_date', 'last_snapshot.as_of_date', 'day') }} as days_silent,
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

final as (

    select
        customer_unique_id,
        as_of_date,
        purchase_days,
        last_purchase_date,
        days_silent,
        churn_bucket_label,
        return_probability,
        1 - return_probability as churn_probability,
        {{ churn_risk_label('1 - return_probability') }} as churn_risk,
        coalesce(is_extrapolated, false) as is_extrapolated,
        {{ churn_reason('purchase_days', 'days_silent', 'churn_bucket_label', 'return_probability', 'is_extrapolated') }} as churn_reason,
        '{{ model }}' as churn_model
    from scored

)

select * from final
