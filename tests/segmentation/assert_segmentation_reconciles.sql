-- Cross-mart reconciliation: customer_abc_xyz spends what customer_rfm spends; customer_segments carries
-- every RFM customer once; the summaries add back up to the customer marts; and with the default
-- analysis date the RFM frequency and monetary equal dim_customers' purchase figures.
with

rfm as (

    select
        count(*) as customers,
        sum(frequency) as purchases,
        sum(monetary) as revenue
    from {{ ref('customer_rfm') }}

),

abc_xyz as (

    select
        count(*) as customers,
        sum(monetary) as revenue
    from {{ ref('customer_abc_xyz') }}

),

segments as (

    select
        count(churn_risk) as customers,
        sum(monetary) as revenue
    from {{ ref('customer_segments') }}

),

summary as (

    select
        sum(customer_count) as customers,
        sum(purchase_count) as purchases,
        sum(revenue) as revenue
    from {{ ref('segment_summary') }}

),

monthly as (

    select
        snapshot_month,
        sum(customer_count) as customers,
        sum(month_revenue) as month_revenue,
        sum(revenue_to_date) as revenue_to_date
    from {{ ref('segment_monthly_summary') }}
    group by snapshot_month

),

snapshots as (

    select
        snapshot_month,
        count(*) as customers,
        sum(month_monetary) as month_revenue,
        sum(monetary) as revenue_to_date
    from {{ ref('segment_snapshots') }}
    group by snapshot_month

),

checks as (

    select
        'abc_xyz customers' as check_name,
        abc_xyz.customers - rfm.customers as difference
    from rfm cross join abc_xyz
    union all
    select
        'abc_xyz revenue' as check_name,
        abc_xyz.revenue - rfm.revenue as difference
    from rfm cross join abc_xyz
    union all
    select
        'customer_segments customers' as check_name,
        segments.customers - rfm.customers as difference
    from rfm cross join segments
    union all
    select
        'customer_segments revenue' as check_name,
        segments.revenue - rfm.revenue as difference
    from rfm cross join segments
    union all
    select
        'segment_summary customers' as check_name,
        summary.customers - rfm.customers as difference
    from rfm cross join summary
    union all
    select
        'segment_summary purchases' as check_name,
        summary.purchases - rfm.purchases as difference
    from rfm cross join summary
    union all
    select
        'segment_summary revenue' as check_name,
        summary.revenue - rfm.revenue as difference
    from rfm cross join summary
    union all
    select
        'monthly customers' as check_name,
        coalesce(monthly.customers, -1) - snapshots.customers as difference
    from snapshots left join monthly on snapshots.snapshot_month = monthly.snapshot_month
    union all
    select
        'monthly month_revenue' as check_name,
        coalesce(monthly.month_revenue, -1) - snapshots.month_revenue as difference
    from snapshots left join monthly on snapshots.snapshot_month = monthly.snapshot_month
    union all
    select
        'monthly revenue_to_date' as check_name,
        coalesce(monthly.revenue_to_date, -1) - snapshots.revenue_to_date as difference
    from snapshots left join monthly on snapshots.snapshot_month = monthly.snapshot_month
    {%- if var('analysis_date', none) is none %}
    union all
    select
        'dim_customers purchase_count' as check_name,
        count(*) as difference
    from {{ ref('customer_rfm') }} as customer_rfm
    inner join {{ ref('dim_customers') }} as dim_customers
        on customer_rfm.customer_unique_id = dim_customers.customer_unique_id
    where customer_rfm.frequency is distinct from dim_customers.purchase_count
        or customer_rfm.monetary is distinct from dim_customers.purchase_value
    union all
    select
        'dim_customers purchasers' as check_name,
        count(*) - (select rfm.customers from rfm) as difference
    from {{ ref('dim_customers') }} as dim_customers
    where dim_customers.has_purchased
    {%- endif %}

)

select *
from checks
where difference is distinct from 0
