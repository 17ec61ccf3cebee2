{#- The data-quality rule of the raw category_translation file (a row of data_quality_exclusions): exact duplicates. -#}

with

source_category_translation as (

    select * from {{ source('olist', 'category_translation') }}

),

category_translation as (

    select * from {{ ref('stg_olist__category_translation') }}

),

table_rows as (

    {{ quality_counts('source_category_translation') }}

),

staging_rows as (

    {{ quality_counts('category_translation') }}

),

rules as (

    {{ quality_exact_duplicates('category_translation') }}

),

final as (

    {{ quality_rule_rows() }}

)

select * from final
