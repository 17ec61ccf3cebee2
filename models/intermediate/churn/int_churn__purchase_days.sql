-- One row per customer and purchase day: same-day orders are one purchase day, so a second order placed the
-- same day is not a "return". Each purchase day opens a gap episode that ends at the customer's next purchase
-- day (gap_days) or is still open (next_purchase_date null). purchase_day_bucket is the raw purchase-count
-- bucket (var churn_purchase_count_buckets) of the episode: how many purchase days the customer had when it opened.

with

purchase_days as (

    select * from {{ ref('int_purchases__by_customer_day') }}

),

numbered as (

    select
        customer_unique_id,
        purchase_date,
        order_count as purchase_count,
        row_number() over (
            partition by customer_unique_id
            order by purchase_date
        ) as purchase_day_number,
        lead(purchase_date) over (
            partition by customer_unique_id
            order by purchase_date
        ) as next_purchase_date,
        analysis_date
    from purchase_days

),

final as (

    select
        customer_unique_id,
        purchase_date,
        cast({{ dbt.date_trunc('month', 'purchase_date') }} as date) as purchase_month,
        cast(purchase_day_number as {{ dbt.type_bigint() }}) as purchase_day_number,
        {{ churn_purchase_day_bucket('purchase_day_number') }} as purchase_day_bucket,
        purchase_count,
        next_purchase_date,
        {{ dbt.datediff('purchase_date', 'next_purchase_date', 'day') }} as gap_days, -- noqa: LT05
        analysis_date
    from numbered

)

select * from final
