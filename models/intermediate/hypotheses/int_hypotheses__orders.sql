with

orders as (

    select * from {{ ref('fct_orders') }}

),

brazil_states as (

    select * from {{ ref('brazil_states') }}

),

purchases as (

    select * from orders
    where is_purchase

),

sequenced as (

    select
        purchases.*,
        row_number() over (
            partition by customer_unique_id
            order by purchased_at, order_id
        ) as purchase_number
    from purchases

),

final as (

    -- fct_orders is order grain (items, payments and reviews rolled up before joining): one row per purchase
    select
        sequenced.order_id,
        sequenced.customer_unique_id,
        sequenced.purchase_number,
        sequenced.purchased_at,
        sequenced.purchase_date,
        cast(extract(year from sequenced.purchased_at) as {{ dbt.type_int() }}) as purchase_year,
        cast(extract(month from sequenced.purchased_at) as {{ dbt.type_int() }}) as purchase_month,
        cast(extract(hour from sequenced.purchased_at) as {{ dbt.type_int() }}) as purchase_hour,
        {{ iso_day_of_week('sequenced.purchased_at') }} as purchase_iso_weekday,
        sequenced.payment_value,
        sequenced.main_payment_type,
        sequenced.item_count,
        sequenced.distinct_sellers,
        case
            when sequenced.item_count > 0 then cast(sequenced.items_value as {{ type_double() }}) / sequenced.item_count
        end as mean_item_price,
        sequenced.main_seller_state,
        brazil_states.region as main_seller_region,
        sequenced.customer_city,
        {{ is_large_city('sequenced.customer_city') }} as is_large_city,
        sequenced.delivery_days,
        sequenced.review_count > 0 as has_review,
        sequenced.review_score
    from sequenced
    left join brazil_states
        on sequenced.main_seller_state = brazil_states.state_code

)

select * from final
