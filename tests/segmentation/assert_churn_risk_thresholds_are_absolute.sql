-- churn_risk is the same function of churn_probability in every snapshot month (absolute var
-- churn_risk_thresholds, not percentiles): per month and label, the range of probabilities must fall inside the
-- label's fixed interval, and the snapshots must cover every month. Any row is a violation.
{%- set t = churn_risk_thresholds() %}

with

snapshots as (

    select * from {{ ref('segment_snapshots') }}

),

ranges as (

    select
        snapshot_month,
        churn_risk,
        min(churn_probability) as min_probability,
        max(churn_probability) as max_probability
    from snapshots
    group by
        snapshot_month,
        churn_risk

)

select *
from ranges
where (churn_risk = 'high' and min_probability < {{ t['high'] }})
    or (churn_risk = 'low' and max_probability > {{ t['low'] }})
    or (churn_risk = 'medium' and (min_probability <= {{ t['low'] }} or max_probability >= {{ t['high'] }}))
    or churn_risk is null
