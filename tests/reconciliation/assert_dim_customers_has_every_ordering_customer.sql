{{ config(enabled=var('input_format', 'olist') == 'olist') }}
-- Every person in the raw customers file who placed a raw order must be in dim_customers, and nobody else.

with

raw_ordering_customers as (

    select distinct customers.customer_unique_id
    from {{ source('olist', 'orders') }} as orders
    inner join {{ source('olist', 'customers') }} as customers
        on trim(orders.customer_id) = trim(customers.customer_id)

),

dim as (

    select customer_unique_id from {{ ref('dim_customers') }}

),

missing as (

    select
        raw_ordering_customers.customer_unique_id,
        'missing from dim_customers' as problem
    from raw_ordering_customers
    where trim(customer_unique_id) not in (select dim.customer_unique_id from dim)

),

extra as (

    select
        dim.customer_unique_id,
        'in dim_customers but not in raw' as problem
    from dim
    where customer_unique_id not in (select trim(raw_ordering_customers.customer_unique_id) from raw_ordering_customers)

)

select * from missing
union all
select * from extra
