with

order_payments as (

    select * from {{ ref('stg_olist__order_payments') }}

),

by_order as (

    select
        order_id,
        count(*) as payment_count,
        sum(payment_value) as payment_value,
        max(payment_installments) as payment_installments,
        sum(case when payment_type = 'credit_card' then payment_value else 0 end) as credit_card_value,
        sum(case when payment_type = 'boleto' then payment_value else 0 end) as boleto_value,
        sum(case when payment_type = 'voucher' then payment_value else 0 end) as voucher_value,
        sum(case when payment_type = 'debit_card' then payment_value else 0 end) as debit_card_value,
        -- the payment that carried the largest share of the order (then the first by payment_sequential) names
        -- its type; (order_id, payment_sequential) is unique and payment_value not null (tests on
        -- stg_olist__order_payments): no ties
        {{ value_at_max('payment_type', ['payment_value', '-payment_sequential']) }} as main_payment_type
    from order_payments
    group by order_id

),

final as (

    select * from by_order

)

select * from final
