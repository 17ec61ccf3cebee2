with

order_payments as (

    select * from {{ ref('stg_olist__order_payments') }}

),

main_payment_ranked as (

    -- the payment that carried the largest share of the order names its type
    select
        order_id,
        payment_type as main_payment_type,
        row_number() over (
            partition by order_id
            order by payment_value desc, payment_sequential asc
        ) as row_num
    from order_payments

),

main_payment as (

    select * from main_payment_ranked
    where row_num = 1

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
        sum(case when payment_type = 'debit_card' then payment_value else 0 end) as debit_card_value
    from order_payments
    group by order_id

),

final as (

    select
        by_order.*,
        main_payment.main_payment_type
    from by_order
    inner join main_payment
        on by_order.order_id = main_payment.order_id

)

select * from final
