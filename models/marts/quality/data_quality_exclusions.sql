-- One row per data-quality rule: how many rows of which raw table the build deduplicated, excluded, defaulted or
-- merely reported, and how much money they carry. Counted by comparing each raw file with what the models kept
-- (models/intermediate/quality: one int_quality__<table> model per raw table, in these columns), so nothing
-- leaves the marts without showing up here. Rates above var data_quality_thresholds warn or fail.

with

quality_orders as (

    select * from {{ ref('int_quality__orders') }}

),

quality_order_items as (

    select * from {{ ref('int_quality__order_items') }}

),

quality_order_payments as (

    select * from {{ ref('int_quality__order_payments') }}

),

quality_order_reviews as (

    select * from {{ ref('int_quality__order_reviews') }}

),

quality_customers as (

    select * from {{ ref('int_quality__customers') }}

),

quality_products as (

    select * from {{ ref('int_quality__products') }}

),

quality_sellers as (

    select * from {{ ref('int_quality__sellers') }}

),

quality_geolocation as (

    select * from {{ ref('int_quality__geolocation') }}

),

quality_category_translation as (

    select * from {{ ref('int_quality__category_translation') }}

),
{%- if input_format() == 'transactions' %}

quality_transactions as (

    select * from {{ ref('int_quality__transactions') }}

),
{%- endif %}

final as (

    select * from quality_orders
    union all
    select * from quality_order_items
    union all
    select * from quality_order_payments
    union all
    select * from quality_order_reviews
    union all
    select * from quality_customers
    union all
    select * from quality_products
    union all
    select * from quality_sellers
    union all
    select * from quality_geolocation
    union all
    select * from quality_category_translation
    {%- if input_format() == 'transactions' %}
    union all
    select * from quality_transactions
    {%- endif %}

)

select * from final
