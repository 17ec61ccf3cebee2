-- Month by month (from segment_snapshots, i.e. labels as of each month end): customers, new customers,
-- revenue of the month and revenue to date by churn risk, RFM segment, ABC-XYZ segment and state
-- (the customer's current state from dim_customers). Every measure is additive within a month.

with

snapshots as (

    select * from {{ ref('segment_snapshots') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

final as (

    select
        snapshots.snapshot_month,
        snapshots.churn_risk,
        snapshots.rfm_segment,
        snapshots.segment,
        customers.customer_state,
        customers.customer_region,
        count(*) as customer_count,
        sum(case when snapshots.is_new_customer then 1 else 0 end) as new_customer_count,
        sum(snapshots.month_monetary) as month_revenue,
        sum(snapshots.monetary) as revenue_to_date
    from snapshots
    inner join customers
        on snapshots.customer_unique_id = customers.customer_unique_id
    group by
        snapshots.snapshot_month,
        snapshots.churn_risk,
        snapshots.rfm_segment,
        snapshots.segment,
        customers.customer_state,
        customers.customer_region

)

select * from final
