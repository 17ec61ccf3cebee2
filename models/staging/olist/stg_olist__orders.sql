with

source as (

    select * from {{ source('olist', 'orders') }}

),

renamed as (

    select distinct
        trim(order_id) as order_id,
        trim(customer_id) as customer_id,
        lower(trim(order_status)) as order_status,
        order_purchase_timestamp as purchased_at,
        order_approved_at as approved_at,
        order_delivered_carrier_date as delivered_carrier_at,
        order_delivered_customer_date as delivered_customer_at,
        order_estimated_delivery_date as estimated_delivery_at
    from source

),

final as (

    select * from renamed

)

select * from final
