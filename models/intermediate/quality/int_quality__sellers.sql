{#- The data-quality rule of the raw sellers file (a row of data_quality_exclusions): exact duplicates. -#}

with

source_sellers as (

    select * from {{ source('olist', 'sellers') }}

),

sellers as (

    select * from {{ ref('stg_olist__sellers') }}

),

table_rows as (

    {{ quality_counts('source_sellers') }}

),

staging_rows as (

    {{ quality_counts('sellers') }}

),

rules as (

    {{ quality_exact_duplicates('sellers') }}

),

final as (

    {{ quality_rule_rows() }}

)

select * from final
