{#- The data-quality rules of the raw order_reviews file (rows of data_quality_exclusions): exact duplicates, and
    reviews whose order is unknown (excluded). -#}

with

source_order_reviews as (

    select * from {{ source('olist', 'order_reviews') }}

),

order_reviews as (

    select * from {{ ref('stg_olist__order_reviews') }}

),

orders as (

    select * from {{ ref('stg_olist__orders') }}

),

table_rows as (

    {{ quality_counts('source_order_reviews') }}

),

staging_rows as (

    {{ quality_counts('order_reviews') }}

),

exact_duplicates as (

    {{ quality_exact_duplicates('order_reviews') }}

),

-- reviews whose order is not in the orders file: they cannot be attributed and never reach fct_orders

reviews_of_unknown_orders as (

    select
        'order_reviews_of_unknown_order' as rule_name,
        'order_reviews' as table_name,
        'excluded' as outcome,
        count(*) as affected_rows,
        cast(null as {{ dbt.type_numeric() }}) as affected_value,
        'Reviews whose order_id is not in the orders file: left out of fct_orders and every mart.' as rule_description
    from order_reviews
    left join orders
        on order_reviews.order_id = orders.order_id
    where orders.order_id is null

),

rules as (

    select * from exact_duplicates
    union all
    select * from reviews_of_unknown_orders

),

final as (

    {{ quality_rule_rows() }}

)

select * from final
