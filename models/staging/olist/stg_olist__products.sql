with

source as (

    select * from {{ source('olist', 'products') }}

),

renamed as (

    select distinct
        trim(product_id) as product_id,
        nullif(lower(trim(product_category_name)), '') as product_category_name,
        -- the source spells these "lenght"
        product_name_lenght as product_name_length,
        product_description_lenght as product_description_length,
        product_photos_qty,
        product_weight_g,
        product_length_cm,
        product_height_cm,
        product_width_cm
    from source

),

final as (

    select * from renamed

)

select * from final
