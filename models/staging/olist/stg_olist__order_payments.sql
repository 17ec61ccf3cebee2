with

source as (

    select * from {{ source('olist', 'order_payments') }}

),

renamed as (

    select distinct
        trim(order_id) as order_id,
        payment_sequential,
        lower(trim(payment_type)) as payment_type,
        payment_installments,
        payment_value
    from source

),

final as (

    select * from renamed

)

select * from final
