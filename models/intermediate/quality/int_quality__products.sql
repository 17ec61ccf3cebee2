{#- The data-quality rule of the raw products file (a row of data_quality_exclusions): exact duplicates. -#}

with

source_products as (

    select * from {{ source('olist', 'products') }}

),

products as (

    select * from {{ ref('stg_olist__products') }}

),

table_rows as (

    {{ quality_counts('source_products') }}

),

staging_rows as (

    {{ quality_counts('products') }}

),

rules as (

    {{ quality_exact_duplicates('products') }}

),

final as (

    {{ quality_rule_rows() }}

)

select * from final
