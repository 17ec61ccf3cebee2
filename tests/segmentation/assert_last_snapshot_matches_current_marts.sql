-- The last snapshot is taken as of the analysis date, so it must reproduce customer_rfm and
-- customer_abc_xyz and customer_churn customer by customer (same customers, metrics, scores, rfm_tier, churn
-- probability and risk, and segments). segment_snapshots' churn is always the empirical (Kaplan-Meier) estimate:
-- it must equal customer_churn's empirical_return_probability; customer_churn's own probability comes from
-- churn_model_used (equal to the snapshot's when that is empirical).
with

last_snapshot as (

    select *
    from {{ ref('segment_snapshots') }} as segment_snapshots
    where
        segment_snapshots.snapshot_month = (
            select max(all_snapshots.snapshot_month) from {{ ref('segment_snapshots') }} as all_snapshots
        )

),

current_marts as (

    select
        customer_rfm.*,
        customer_abc_xyz.segment,
        customer_churn.purchase_days,
        customer_churn.days_silent,
        customer_churn.churn_model_used,
        customer_churn.churn_probability as churn_probability_current,
        customer_churn.churn_risk as churn_risk_current,
        1 - customer_churn.empirical_return_probability as empirical_churn_probability_current,
        {{ churn_risk_label('1 - customer_churn.empirical_return_probability') }} as empirical_churn_risk_current
    from {{ ref('customer_rfm') }} as customer_rfm
    inner join {{ ref('customer_abc_xyz') }} as customer_abc_xyz
        on customer_rfm.customer_unique_id = customer_abc_xyz.customer_unique_id
    inner join {{ ref('customer_churn') }} as customer_churn
        on customer_rfm.customer_unique_id = customer_churn.customer_unique_id

)

select
    coalesce(last_snapshot.customer_unique_id, current_marts.customer_unique_id) as customer_unique_id,
    last_snapshot.rfm_tier as snapshot_rfm_tier,
    current_marts.rfm_tier as current_rfm_tier,
    last_snapshot.churn_risk as snapshot_churn_risk,
    current_marts.churn_risk_current as current_churn_risk,
    last_snapshot.segment as snapshot_segment,
    current_marts.segment as current_segment
from last_snapshot
full outer join current_marts
    on last_snapshot.customer_unique_id = current_marts.customer_unique_id
where last_snapshot.customer_unique_id is null
    or current_marts.customer_unique_id is null
    or last_snapshot.recency_days is distinct from current_marts.recency_days
    or last_snapshot.frequency is distinct from current_marts.frequency
    or last_snapshot.monetary is distinct from current_marts.monetary
    or last_snapshot.r_score is distinct from current_marts.r_score
    or last_snapshot.f_score is distinct from current_marts.f_score
    or last_snapshot.m_score is distinct from current_marts.m_score
    or last_snapshot.rfm_weighted is distinct from current_marts.rfm_weighted
    or last_snapshot.rfm_tier is distinct from current_marts.rfm_tier
    or last_snapshot.purchase_days is distinct from current_marts.purchase_days
    or last_snapshot.days_silent is distinct from current_marts.days_silent
    or last_snapshot.churn_probability is distinct from current_marts.empirical_churn_probability_current
    or last_snapshot.churn_risk is distinct from current_marts.empirical_churn_risk_current
    or (
        current_marts.churn_model_used = 'empirical'
        and (
            last_snapshot.churn_probability is distinct from current_marts.churn_probability_current
            or last_snapshot.churn_risk is distinct from current_marts.churn_risk_current
        )
    )
    or last_snapshot.r_grid is distinct from current_marts.r_grid
    or last_snapshot.rfm_segment is distinct from current_marts.rfm_segment
    or last_snapshot.segment is distinct from current_marts.segment
