{#- One row describing what this build read: the input layout, where from, and the label of its money.
    The reports read it (currency, "no data" notes); a user can check which file a warehouse was built from.
    Built from vars only; fct_orders is read for the counts so the row belongs to the same build. -#}

with

orders as (

    select * from {{ ref('fct_orders') }}

),

order_counts as (

    select
        count(*) as order_count,
        count(distinct customer_unique_id) as customer_count
    from orders

),

final as (

    select
        '{{ input_format() }}' as input_format,
        {%- if input_format() == 'transactions' %}
        {{ sql_string(var("transactions_path")) }} as input_location,
        {{ sql_string(transactions_columns() | tojson) }} as column_map,
        {{ 'true' if 'region' in transactions_columns() else 'false' }} as has_region,
        {%- else %}
        {{ sql_string(var("raw_data_dir")) }} as input_location,
        cast(null as {{ dbt.type_string() }}) as column_map,
        true as has_region,
        {%- endif %}
        {{ sql_string(var("currency_label")) }} as currency_label,
        order_counts.order_count,
        order_counts.customer_count
    from order_counts

)

select * from final
