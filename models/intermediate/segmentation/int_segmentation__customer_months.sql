-- One row per customer and calendar month in which they purchased, carrying the customer's running
-- totals as of the end of that month. segment_snapshots joins each row to every month end from this
-- month up to (not including) next_purchase_month, so it never loops over snapshots.

with

purchases as (

    select * from {{ ref('int_segmentation__purchases') }}

),

cells as (

    -- a month can hold two xyz periods (week) and a period can span months (quarter, year):
    -- the cell is one customer, month and xyz period
    select
        customer_unique_id,
        purchase_month,
        xyz_period_start,
        count(*) as purchase_count,
        -- a date lies in exactly one month and one xyz period, so these add up to distinct days per month
        count(distinct purchase_date) as purchase_day_count,
        sum(payment_value) as spend,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        max(analysis_date) as analysis_date
    from purchases
    group by
        customer_unique_id,
        purchase_month,
        xyz_period_start

),

cells_period_to_date as (

    -- spend of the xyz period up to the end of this month, and up to the end of its previous month
    select
        cells.*,
        sum(spend) over (
            partition by customer_unique_id, xyz_period_start
            order by purchase_month
            rows between unbounded preceding and current row
        ) as period_spend_to_date,
        coalesce(
            sum(spend) over (
                partition by customer_unique_id, xyz_period_start
                order by purchase_month
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as period_spend_before,
        xyz_period_start = max(xyz_period_start) over (
            partition by customer_unique_id, purchase_month
        ) as is_month_last_xyz_period
    from cells

),

months as (

    -- sum_sq_increment: how much this month raises the sum over periods of (period spend)^2
    select
        customer_unique_id,
        purchase_month,
        cast(sum(purchase_count) as {{ dbt.type_bigint() }}) as month_purchase_count,
        cast(sum(purchase_day_count) as {{ dbt.type_bigint() }}) as month_purchase_day_count,
        sum(spend) as month_monetary,
        min(first_purchase_date) as month_first_purchase_date,
        max(last_purchase_date) as last_purchase_date,
        min(xyz_period_start) as month_first_xyz_period_start,
        max(xyz_period_start) as last_xyz_period_start,
        -- spend of the latest xyz period up to this month's end: what the XYZ window leaves out while that
        -- period is incomplete
        sum(case when is_month_last_xyz_period then period_spend_to_date else 0 end) as last_xyz_period_spend,
        sum(
            period_spend_to_date * period_spend_to_date - period_spend_before * period_spend_before
        ) as sum_sq_increment,
        max(analysis_date) as analysis_date
    from cells_period_to_date
    group by
        customer_unique_id,
        purchase_month

),

running as (

    select
        customer_unique_id,
        purchase_month,
        lead(purchase_month) over (
            partition by customer_unique_id
            order by purchase_month
        ) as next_purchase_month,
        month_purchase_count,
        month_monetary,
        cast(
            sum(month_purchase_count)
                over (
                    partition by customer_unique_id
                    order by purchase_month
                    rows between unbounded preceding and current row
                )
            as {{ dbt.type_bigint() }}
        ) as frequency,
        cast(
            sum(month_purchase_day_count)
                over (
                    partition by customer_unique_id
                    order by purchase_month
                    rows between unbounded preceding and current row
                )
            as {{ dbt.type_bigint() }}
        ) as purchase_day_count,
        sum(month_monetary) over (
            partition by customer_unique_id
            order by purchase_month
            rows between unbounded preceding and current row
        ) as monetary,
        sum(sum_sq_increment) over (
            partition by customer_unique_id
            order by purchase_month
            rows between unbounded preceding and current row
        ) as monetary_sum_sq,
        min(month_first_purchase_date) over (partition by customer_unique_id) as first_purchase_date,
        last_purchase_date,
        min(month_first_xyz_period_start) over (partition by customer_unique_id) as first_xyz_period_start,
        last_xyz_period_start,
        last_xyz_period_spend,
        analysis_date
    from months

),

final as (

    select
        customer_unique_id,
        purchase_month,
        -- the state holds for snapshot months in [purchase_month, valid_until_month)
        coalesce(
            next_purchase_month,
            cast({{ dbt.dateadd('month', 1, dbt.date_trunc('month', 'analysis_date')) }} as date)
        ) as valid_until_month,
        month_purchase_count,
        month_monetary,
        frequency,
        purchase_day_count,
        monetary,
        monetary_sum_sq,
        first_purchase_date,
        last_purchase_date,
        first_xyz_period_start,
        last_xyz_period_start,
        last_xyz_period_spend,
        analysis_date
    from running

)

select * from final
