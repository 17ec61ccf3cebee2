-- Transition matrix between consecutive monthly snapshots: how many customers moved from each
-- churn risk and ABC-XYZ segment at the previous month end to each one at this month end.
-- Customers who first bought in the month come from 'new'. A customer stays in every snapshot
-- after their first purchase, so the rows of a month sum to that month's snapshot size.

with

snapshots as (

    select * from {{ ref('segment_snapshots') }}

),

with_previous as (

    select
        snapshot_month,
        customer_unique_id,
        churn_risk,
        segment,
        lag(snapshot_month) over (
            partition by customer_unique_id
            order by snapshot_month
        ) as previous_snapshot_month,
        lag(churn_risk) over (
            partition by customer_unique_id
            order by snapshot_month
        ) as previous_churn_risk,
        lag(segment) over (
            partition by customer_unique_id
            order by snapshot_month
        ) as previous_segment
    from snapshots

),

final as (

    select
        snapshot_month,
        cast({{ dbt.dateadd('month', -1, 'snapshot_month') }} as date) as previous_month,
        coalesce(previous_churn_risk, 'new') as from_churn_risk,
        churn_risk as to_churn_risk,
        coalesce(previous_segment, 'new') as from_segment,
        segment as to_segment,
        previous_snapshot_month is null as is_new_customer,
        count(*) as customer_count
    from with_previous
    group by
        snapshot_month,
        coalesce(previous_churn_risk, 'new'),
        churn_risk,
        coalesce(previous_segment, 'new'),
        segment,
        previous_snapshot_month is null

)

select * from final
