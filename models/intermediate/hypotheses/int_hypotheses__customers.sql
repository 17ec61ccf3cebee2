-- One row per purchasing customer: their first purchase's measures, and whether they bought again within the
-- repeat horizon. A repeat purchase is what macros/repeat.sql says (is_repeat_purchase: a later calendar day
-- than the first purchase; same-day orders belong to the first visit). Repeat rates are only comparable over a
-- fixed observation window: has_complete_horizon says that the first purchase date plus var repeat_horizon_days
-- lies before the analysis date (var analysis_date, or the day after the latest purchase), and
-- repeated_within_horizon is null for the others.

with

-- read four times: inlined (PostgreSQL otherwise materialises it and, estimating 200 groups for the aggregates over
-- it, joined them by a nested loop that re-ran a 1 M-row aggregate per customer at 1 M orders)
orders as {{ cte_inlined() }} (

    select * from {{ ref('int_hypotheses__orders') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

reference_date as (

    select
        {{ segmentation_analysis_date('max(purchase_date)') }} as analysis_date
    from orders

),

first_purchases as (

    select
        orders.*,
        cast({{ dbt.dateadd('day', var('repeat_horizon_days'), 'orders.purchase_date') }} as date) as horizon_end_date
    from orders
    where purchase_number = 1

),

later_purchases as (

    -- per customer: purchases on a later day than the first one (is_repeat_purchase) within the horizon
    select
        orders.customer_unique_id,
        count(*) as repeat_purchases_within_horizon
    from orders
    inner join first_purchases
        on orders.customer_unique_id = first_purchases.customer_unique_id
    where
        {{ is_repeat_purchase('orders.purchase_date', 'first_purchases.purchase_date') }}
        and orders.purchase_date <= first_purchases.horizon_end_date
    group by orders.customer_unique_id

),

reviews_by_customer as (

    select
        customer_unique_id,
        sum(case when has_review then 1 else 0 end) as reviewed_purchases
    from orders
    group by customer_unique_id

),

final as (

    -- one row per purchasing customer; every input is already one row per customer
    select
        customers.customer_unique_id,
        customers.customer_city,
        {{ is_large_city('customers.customer_city') }} as is_large_city,
        customers.purchase_count,
        reviews_by_customer.reviewed_purchases,
        cast(reviews_by_customer.reviewed_purchases as {{ type_double() }})
        / customers.purchase_count as reviewed_share,
        first_purchases.purchased_at as first_purchase_at,
        first_purchases.purchase_date as first_purchase_date,
        first_purchases.purchase_iso_weekday as first_purchase_iso_weekday,
        first_purchases.delivery_days as first_purchase_delivery_days,
        first_purchases.mean_item_price as first_purchase_mean_item_price,
        first_purchases.has_review as first_purchase_reviewed,
        first_purchases.horizon_end_date,
        reference_date.analysis_date,
        first_purchases.horizon_end_date < reference_date.analysis_date as has_complete_horizon,
        case
            when first_purchases.horizon_end_date < reference_date.analysis_date
                then coalesce(later_purchases.repeat_purchases_within_horizon, 0) > 0
        end as repeated_within_horizon
    from customers
    inner join first_purchases
        on customers.customer_unique_id = first_purchases.customer_unique_id
    inner join reviews_by_customer
        on customers.customer_unique_id = reviews_by_customer.customer_unique_id
    left join later_purchases
        on customers.customer_unique_id = later_purchases.customer_unique_id
    cross join reference_date

)

select * from final
