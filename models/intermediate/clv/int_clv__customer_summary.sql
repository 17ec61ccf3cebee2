-- The buy-till-you-die summary of every customer with a purchase before the analysis date, in the
-- time unit of var clv_time_unit_days. These are NOT the RFM figures: btyd_frequency counts repeat
-- purchase DAYS (the first day excluded), btyd_recency runs from the first to the last purchase day (not to
-- the analysis date), btyd_t from the first purchase day to the analysis date, and btyd_monetary_value is
-- the mean value of the repeat purchase days (the first day excluded; null without a repeat day).

with

purchase_days as (

    select * from {{ ref('int_purchases__by_customer_day') }}

),

days_with_first as (

    select
        customer_unique_id,
        purchase_date,
        purchase_value,
        analysis_date,
        min(purchase_date) over (partition by customer_unique_id) as first_purchase_date
    from purchase_days

),

final as (

    select
        customer_unique_id,
        first_purchase_date,
        max(purchase_date) as last_purchase_date,
        max(analysis_date) as analysis_date,
        count(*) as purchase_day_count,
        count(*) - 1 as btyd_frequency,
        cast(
            {{ dbt.datediff('first_purchase_date', 'max(purchase_date)', 'day') }}
            as {{ type_double() }}
        ) / {{ var('clv_time_unit_days') }} as btyd_recency,
        cast(
            {{ dbt.datediff('first_purchase_date', 'max(analysis_date)', 'day') }}
            as {{ type_double() }}
        ) / {{ var('clv_time_unit_days') }} as btyd_t,
        case
            when count(*) > 1
                then cast(
                        sum(case when purchase_date > first_purchase_date then purchase_value end)
                        as {{ type_double() }}
                    )
                    / (count(*) - 1)
        end as btyd_monetary_value,
        sum(purchase_value) as total_value
    from days_with_first
    group by
        customer_unique_id,
        first_purchase_date

)

select * from final
