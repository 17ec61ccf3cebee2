with

orders as (

    select * from {{ ref('int_orders__enriched') }}

),

zip_locations as (

    select * from {{ ref('stg_olist__geolocation') }}

),

brazil_states as (

    select * from {{ ref('brazil_states') }}

),

final as (

    select
        orders.order_id,
        orders.customer_id,
        orders.customer_unique_id,
        orders.order_status,
        -- a purchase is any order whose status is not in var revenue_excluded_statuses (transactions layout: and
        -- that has a line passing every purchase rule; always true for Olist)
        {% if var('revenue_excluded_statuses') | length > 0 -%}
        orders.has_purchase_lines and orders.order_status not in (
            {{ quoted_list(var('revenue_excluded_statuses')) }}
        ) as is_purchase,
        {%- else -%}
        orders.has_purchase_lines as is_purchase,
        {%- endif %}
        orders.purchased_at,
        cast(orders.purchased_at as date) as purchase_date,
        orders.approved_at,
        orders.delivered_carrier_at,
        orders.delivered_customer_at,
        orders.estimated_delivery_at,
        orders.item_count,
        orders.distinct_products,
        orders.distinct_sellers,
        orders.items_value,
        orders.freight_value,
        orders.items_value + orders.freight_value as order_value,
        orders.payment_count,
        orders.payment_value,
        orders.credit_card_value,
        orders.boleto_value,
        orders.voucher_value,
        orders.debit_card_value,
        orders.payment_value - (orders.items_value + orders.freight_value) as payment_minus_order_value,
        orders.returns_value,
        orders.main_payment_type,
        orders.payment_installments,
        orders.main_product_category,
        orders.main_seller_id,
        orders.main_seller_state,
        orders.review_count,
        orders.review_score,
        orders.mean_review_score,
        {{ dbt.datediff('orders.purchased_at', 'orders.delivered_customer_at', 'day') }} as delivery_days, -- noqa: LT05
        case
            when orders.delivered_customer_at is null then null
            else cast(orders.delivered_customer_at as date) > cast(orders.estimated_delivery_at as date)
        end as is_late,
        orders.customer_state,
        {% if input_format() == 'transactions' -%}
        -- the mapped region (state, country...) is its own region: there is no Brazilian macro-region to look up
        orders.customer_state as customer_region,
        {%- else -%}
        brazil_states.region as customer_region,
        {%- endif %}
        orders.customer_city,
        orders.customer_zip_code_prefix,
        zip_locations.lat as customer_lat,
        zip_locations.lng as customer_lng
    from orders
    left join zip_locations
        on orders.customer_zip_code_prefix = zip_locations.zip_code_prefix
    left join brazil_states
        on orders.customer_state = brazil_states.state_code

)

select * from final
