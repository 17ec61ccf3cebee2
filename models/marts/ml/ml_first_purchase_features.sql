{#- What is known about a customer at (and shortly after) the first purchase, plus the repeat label.
    Feature columns (first_order_*) are computed from the first purchase order alone, from events up to the end of
    the feature window (var repeat_feature_window_days after the first purchase) AND before the analysis date;
    the later purchases feed only the non-feature columns (the label, horizon_complete, purchase_count). The label
    counts repeat purchases (macros/repeat.sql) after the feature window, up to the horizon end: a prediction is
    made when the window closes, so what happens inside it is not something to predict. -#}

with

orders as (

    select * from {{ ref('fct_orders') }}

),

order_reviews as (

    select * from {{ ref('stg_olist__order_reviews') }}

),

analysis_day as (

    -- the same reference date as customer_rfm (var analysis_date, or the day after the latest purchase)
    select
        {{ segmentation_analysis_date('max(purchase_date)') }} as analysis_date
    from orders
    where is_purchase

),

reference_date as (

    -- analysis_at is the first instant of the analysis date: an event at or after it has not happened yet
    select
        analysis_date,
        cast(analysis_date as {{ dbt.type_timestamp() }}) as analysis_at
    from analysis_day

),

purchases_ranked as (

    select
        orders.*,
        reference_date.analysis_date,
        reference_date.analysis_at,
        row_number() over (
            partition by orders.customer_unique_id
            order by orders.purchased_at, orders.order_id
        ) as purchase_number
    from orders
    cross join reference_date
    where orders.is_purchase
        and orders.purchase_date < reference_date.analysis_date

),

first_purchases as (

    select
        purchases_ranked.*,
        {{ dbt.dateadd('day', var('repeat_feature_window_days'), 'purchases_ranked.purchased_at') }} as feature_window_end_at, -- noqa: LT05
        {{ dbt.dateadd('day', var('repeat_horizon_days'), 'purchases_ranked.purchased_at') }} as horizon_end_at
    from purchases_ranked
    where purchase_number = 1

),

first_order_reviews_ranked as (

    -- reviews of the first order answered by the end of the feature window and before the analysis date;
    -- the latest such answer counts
    select
        order_reviews.order_id,
        order_reviews.review_score,
        row_number() over (
            partition by order_reviews.order_id
            order by
                order_reviews.review_answered_at desc,
                order_reviews.review_created_at desc,
                order_reviews.review_id asc
        ) as row_num
    from order_reviews
    inner join first_purchases
        on order_reviews.order_id = first_purchases.order_id
    where order_reviews.review_score is not null
        and order_reviews.review_answered_at <= first_purchases.feature_window_end_at
        and order_reviews.review_answered_at < first_purchases.analysis_at

),

first_order_reviews as (

    select
        order_id,
        review_score
    from first_order_reviews_ranked
    where row_num = 1

),

later_purchases as (

    -- label and scoring scope only: nothing here becomes a feature
    select
        purchases_ranked.customer_unique_id,
        count(*) as later_purchase_count,
        -- the first repeat purchase (macros/repeat.sql) after the feature window; purchases_ranked holds only
        -- purchases before the analysis date
        min(
            case
                when
                    {{ is_repeat_purchase('purchases_ranked.purchase_date', 'first_purchases.purchase_date') }}
                    and purchases_ranked.purchased_at > first_purchases.feature_window_end_at
                    then purchases_ranked.purchased_at
            end
        ) as next_repeat_after_window_at
    from purchases_ranked
    inner join first_purchases
        on purchases_ranked.customer_unique_id = first_purchases.customer_unique_id
    where purchases_ranked.purchase_number > 1
    group by purchases_ranked.customer_unique_id

),

final as (

    select
        first_purchases.customer_unique_id,
        first_purchases.order_id as first_order_id,
        first_purchases.purchased_at as first_purchased_at,
        first_purchases.payment_value as first_order_payment_value,
        first_purchases.freight_value as first_order_freight_value,
        first_purchases.item_count as first_order_item_count,
        first_purchases.payment_installments as first_order_installments,
        first_purchases.main_payment_type as first_order_payment_type,
        first_purchases.main_product_category as first_order_category,
        first_purchases.customer_state as first_order_state,
        first_purchases.customer_region as first_order_region,
        {{ iso_day_of_week('first_purchases.purchased_at') }} as first_order_weekday,
        cast(extract(hour from first_purchases.purchased_at) as {{ dbt.type_int() }}) as first_order_hour,
        {{ dbt.datediff('first_purchases.purchased_at', 'first_purchases.estimated_delivery_at', 'day') }}
            as first_order_estimated_delivery_days,
        case
            when first_purchases.delivered_customer_at <= first_purchases.feature_window_end_at
                and first_purchases.delivered_customer_at < first_purchases.analysis_at
                then first_purchases.delivery_days
        end as first_order_delivery_days,
        first_order_reviews.review_score as first_order_review_score,
        first_purchases.feature_window_end_at,
        first_purchases.feature_window_end_at <= first_purchases.analysis_at as feature_window_complete,
        first_purchases.horizon_end_at,
        first_purchases.horizon_end_at <= first_purchases.analysis_at as horizon_complete,
        case
            when later_purchases.next_repeat_after_window_at <= first_purchases.horizon_end_at then true
            when first_purchases.horizon_end_at <= first_purchases.analysis_at then false
        end as repeated_in_outcome_window,
        1 + coalesce(later_purchases.later_purchase_count, 0) as purchase_count
    from first_purchases
    left join first_order_reviews
        on first_purchases.order_id = first_order_reviews.order_id
    left join later_purchases
        on first_purchases.customer_unique_id = later_purchases.customer_unique_id

)

select * from final
