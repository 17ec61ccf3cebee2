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
        '{{ var("transactions_path") | replace("'", "''") }}' as input_location,
        '{{ transactions_columns() | tojson | replace("'", "''") }}' as column_map,
        {{ 'true' if 'region' in transactions_columns() else 'false' }} as has_region,
        {%- else %}
        '{{ var("raw_data_dir") | replace("'", "''") }}' as input_location,
        cast(null as {{ dbt.type_string() }}) as column_map,
        true as has_region,
        {%- endif %}
        '{{ var("currency_label") | replace("'", "''") }}' as currency_label,
        order_counts.order_count,
        order_counts.customer_count
    from order_counts

)

select * from final
