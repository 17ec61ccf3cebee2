{#- What is known about a customer at (and shortly after) the first purchase, plus the repeat label.
    Feature columns (first_order_*) are computed from the first purchase order alone; the later purchases
    feed only the three non-feature columns horizon_complete, repeated_within_horizon and purchase_count. -#}

with

orders as (

    select * from {{ ref('fct_orders') }}

),

order_reviews as (

    select * from {{ ref('stg_olist__order_reviews') }}

),

reference_date as (

    -- the same reference date as customer_rfm (var analysis_date, or the day after the latest purchase)
    select
        {{ segmentation_analysis_date('max(purchase_date)') }} as analysis_date
    from orders
    where is_purchase

),

purchases_ranked as (

    select
        orders.*,
        reference_date.analysis_date,
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
        {{ dbt.dateadd('day', var('repeat_feature_window_days'), 'purchases_ranked.purchased_at') }} as feature_cutoff_at,
        {{ dbt.dateadd('day', var('repeat_horizon_days'), 'purchases_ranked.purchased_at') }} as horizon_end_at
    from purchases_ranked
    where purchase_number = 1

),

first_order_reviews_ranked as (

    -- reviews of the first order answered by the feature cutoff; the latest answer counts
    select
        order_reviews.order_id,
        order_reviews.review_score,
        row_number() over (
            partition by order_reviews.order_id
            order by order_reviews.review_answered_at desc, order_reviews.review_created_at desc, order_reviews.review_id
        ) as row_num
    from order_reviews
    inner join first_purchases
        on order_reviews.order_id = first_purchases.order_id
    where order_reviews.review_score is not null
        and order_reviews.review_answered_at <= first_purchases.feature_cutoff_at

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
        min(
            case
                when purchases_ranked.purchase_date
                    >= {{ dbt.dateadd('day', var('repeat_min_gap_days'), 'first_purchases.purchase_date') }}
                    then purchases_ranked.purchased_at
            end
        ) as next_return_at
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
            when first_purchases.delivered_customer_at <= first_purchases.feature_cutoff_at
                then first_purchases.delivery_days
        end as first_order_delivery_days,
        first_order_reviews.review_score as first_order_review_score,
        first_purchases.horizon_end_at,
        first_purchases.horizon_end_at <= cast(first_purchases.analysis_date as {{ dbt.type_timestamp() }})
            as horizon_complete,
        case
            when later_purchases.next_return_at <= first_purchases.horizon_end_at then true
            when first_purchases.horizon_end_at <= cast(first_purchases.analysis_date as {{ dbt.type_timestamp() }})
                then false
        end as repeated_within_horizon,
        1 + coalesce(later_purchases.later_purchase_count, 0) as purchase_count
    from first_purchases
    left join first_order_reviews
        on first_purchases.order_id = first_order_reviews.order_id
    left join later_purchases
        on first_purchases.customer_unique_id = later_purchases.customer_unique_id

)

select * from final
