with

source as (

    select * from {{ source('olist', 'order_items') }}

),

renamed as (

    select distinct
        trim(order_id) as order_id,
        order_item_id,
        trim(product_id) as product_id,
        trim(seller_id) as seller_id,
        shipping_limit_date as shipping_limit_at,
        price,
        freight_value
    from source

),

final as (

    select * from renamed

)

select * from final
