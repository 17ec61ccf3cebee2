with

source as (

    select * from {{ source('olist', 'customers') }}

),

renamed as (

    select distinct
        trim(customer_id) as customer_id,
        trim(customer_unique_id) as customer_unique_id,
        lpad(trim(customer_zip_code_prefix), 5, '0') as customer_zip_code_prefix,
        lower(trim(customer_city)) as customer_city,
        upper(trim(customer_state)) as customer_state
    from source

),

final as (

    select * from renamed

)

select * from final
