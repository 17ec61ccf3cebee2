{#- Transaction lines rolled up to one row per order, in the columns of int_orders__enriched (Olist-only ones
    null), plus has_purchase_lines and returns_value. Only lines with a known customer and a readable date and
    money belong to an order; the others are counted in data_quality_exclusions. An order is a purchase when at
    least one of its lines passes every purchase rule; its money is the sum of those lines. -#}
{{ config(enabled=var('input_format', 'olist') == 'transactions') }}

with

lines as (

    select * from {{ ref('stg_transactions__lines') }}

),

attributed_lines as (

    select * from lines
    where not is_unparseable
        and not is_without_customer

),

main_line_ranked as (

    -- the order's most valuable purchase line names its category (the product id when no category is mapped)
    select
        order_id,
        coalesce(product_category, product_id) as main_product_category,
        row_number() over (
            partition by order_id
            order by line_value desc, product_id, line_number
        ) as row_num
    from attributed_lines
    where is_purchase_line

),

main_line as (

    select * from main_line_ranked
    where row_num = 1

),

by_order as (

    select
        order_id,
        -- one customer, time and place per order; an order id shared by several customers is reported in
        -- data_quality_exclusions (transactions_orders_with_several_customers) and goes to the smallest id
        min(customer_id) as customer_id,
        min(ordered_at) as purchased_at,
        min(region) as region,
        min(city) as city,
        bool_or(is_cancelled) as is_cancelled,
        bool_or(is_cancelled_by_prefix) as is_cancelled_by_prefix,
        min(case when is_cancelled then status end) as cancelled_status,
        min(case when is_purchase_line then status end) as purchase_status,
        min(status) as any_status,
        sum(case when is_purchase_line then 1 else 0 end) as purchase_line_count,
        sum(case when exclusion_reason = 'return' then 1 else 0 end) as return_line_count,
        count(distinct case when is_purchase_line then product_id end) as distinct_products,
        -- money per order in cents (the lines may carry fractions of a cent: 3 x 0.425)
        cast(round(coalesce(sum(case when is_purchase_line then line_value end), 0), 2) as decimal(18, 2))
            as items_value,
        cast(round(coalesce(sum(case when exclusion_reason in ('cancelled', 'return') then abs(line_value) end), 0), 2)
            as decimal(18, 2)) as returns_value
    from attributed_lines
    group by order_id

),

final as (

    select
        by_order.order_id,
        by_order.customer_id,
        by_order.customer_id as customer_unique_id,
        case
            when by_order.purchase_line_count > 0 then coalesce(by_order.purchase_status, 'completed')
            when by_order.is_cancelled_by_prefix then 'canceled'
            when by_order.is_cancelled then coalesce(by_order.cancelled_status, 'canceled')
            when by_order.return_line_count > 0 then coalesce(by_order.any_status, 'returned')
            else coalesce(by_order.any_status, 'not_purchased')
        end as order_status,
        by_order.purchased_at,
        cast(null as {{ dbt.type_timestamp() }}) as approved_at,
        cast(null as {{ dbt.type_timestamp() }}) as delivered_carrier_at,
        cast(null as {{ dbt.type_timestamp() }}) as delivered_customer_at,
        cast(null as {{ dbt.type_timestamp() }}) as estimated_delivery_at,
        cast(null as {{ dbt.type_string() }}) as customer_zip_code_prefix,
        by_order.city as customer_city,
        -- cohorts and reports group customers by state: a line without region (or no region mapped) says so
        coalesce(by_order.region, 'unknown') as customer_state,
        by_order.purchase_line_count as item_count,
        by_order.distinct_products,
        cast(null as {{ dbt.type_bigint() }}) as distinct_sellers,
        by_order.items_value,
        cast(0 as decimal(18, 2)) as freight_value,
        main_line.main_product_category,
        cast(null as {{ dbt.type_string() }}) as main_seller_id,
        cast(null as {{ dbt.type_string() }}) as main_seller_state,
        -- the purchase lines' money is what the customer paid: one payment per purchase
        case when by_order.purchase_line_count > 0 then 1 else 0 end as payment_count,
        by_order.items_value as payment_value,
        cast(null as decimal(18, 2)) as credit_card_value,
        cast(null as decimal(18, 2)) as boleto_value,
        cast(null as decimal(18, 2)) as voucher_value,
        cast(null as decimal(18, 2)) as debit_card_value,
        cast(null as {{ dbt.type_string() }}) as main_payment_type,
        cast(null as {{ dbt.type_int() }}) as payment_installments,
        -- no reviews in this layout: 0 reviews, as a header-only Olist reviews file gives ("no data" downstream)
        cast(0 as {{ dbt.type_bigint() }}) as review_count,
        cast(null as {{ dbt.type_int() }}) as review_score,
        cast(null as {{ type_double() }}) as mean_review_score,
        cast(null as {{ dbt.type_timestamp() }}) as review_created_at,
        by_order.purchase_line_count > 0 as has_purchase_lines,
        by_order.returns_value
    from by_order
    left join main_line
        on by_order.order_id = main_line.order_id

)

select * from final
