with

orders as (

    select * from {{ ref('fct_orders') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

customer_rfm as (

    select * from {{ ref('customer_rfm') }}

),

reference_date as (

    -- the same reference date as customer_rfm (var analysis_date, or the day after the latest purchase)
    select
        {{ segmentation_analysis_date('max(purchase_date)') }} as analysis_date
    from orders
    where is_purchase

),

purchases as (

    select orders.*
    from orders
    cross join reference_date
    where orders.is_purchase
        and orders.purchase_date < reference_date.analysis_date

),

purchase_habits as (

    -- fct_orders is order grain: these are plain per-customer aggregates, no fan-out
    select
        customer_unique_id,
        avg(review_score) as mean_review_score,
        avg(delivery_days) as mean_delivery_days,
        avg(case when payment_count > 0 then payment_installments end) as mean_installments,
        sum(payment_value) as payment_value,
        sum(boleto_value) as boleto_value,
        sum(credit_card_value) as credit_card_value
    from purchases
    group by customer_unique_id

),

final as (

    select
        customer_rfm.customer_unique_id,
        customer_rfm.recency_days,
        customer_rfm.frequency,
        customer_rfm.monetary,
        purchase_habits.mean_review_score,
        purchase_habits.mean_delivery_days,
        purchase_habits.mean_installments,
        case
            when purchase_habits.payment_value > 0
                then purchase_habits.boleto_value / purchase_habits.payment_value
        end as boleto_share,
        case
            when purchase_habits.payment_value > 0
                then purchase_habits.credit_card_value / purchase_habits.payment_value
        end as credit_card_share,
        customers.customer_region
    from customer_rfm
    left join purchase_habits
        on customer_rfm.customer_unique_id = purchase_habits.customer_unique_id
    left join customers
        on customer_rfm.customer_unique_id = customers.customer_unique_id

)

select * from final
