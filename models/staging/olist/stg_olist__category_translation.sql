with

source as (

    select * from {{ source('olist', 'category_translation') }}

),

renamed as (

    select distinct
        lower(trim(product_category_name)) as product_category_name,
        lower(trim(product_category_name_english)) as product_category_name_english
    from source

),

final as (

    select * from renamed

)

select * from final
