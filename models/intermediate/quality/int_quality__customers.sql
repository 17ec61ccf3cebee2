{#- The data-quality rules of the raw customers file (rows of data_quality_exclusions): exact duplicates, and
    customer_id rows no order refers to (reported). -#}

with

source_customers as (

    select * from {{ source('olist', 'customers') }}

),

customers as (

    select * from {{ ref('stg_olist__customers') }}

),

orders as (

    select * from {{ ref('stg_olist__orders') }}

),

table_rows as (

    {{ quality_counts('source_customers') }}

),

staging_rows as (

    {{ quality_counts('customers') }}

),

exact_duplicates as (

    {{ quality_exact_duplicates('customers') }}

),

ordering_customers as (

    select distinct customer_id
    from orders

),

customers_without_orders as (

    select
        'customers_without_orders' as rule_name,
        'customers' as table_name,
        'reported' as outcome,
        count(*) as affected_rows,
        cast(null as {{ dbt.type_numeric() }}) as affected_value,
        'customer_id rows that no order refers to: nothing to segment, so not in dim_customers.' as rule_description
    from customers
    left join ordering_customers
        on customers.customer_id = ordering_customers.customer_id
    where ordering_customers.customer_id is null

),

rules as (

    select * from exact_duplicates
    union all
    select * from customers_without_orders

),

final as (

    {{ quality_rule_rows() }}

)

select * from final
