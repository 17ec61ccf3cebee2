{#- One row per line of the transactions file (var transactions_path), renamed to the project's names through
    var transactions_columns, typed, trimmed, and flagged with the rule that keeps it out of the purchases (if any).
    No line is dropped here: data_quality_exclusions counts every rule from this table. Exact duplicate lines are
    kept (a file without line numbers cannot tell a repeated purchase from a repeated row; they are reported). -#}
{{ config(enabled=var('input_format', 'olist') == 'transactions') }}

{%- set columns = transactions_columns() %}
{%- do check_transactions_file(source('transactions', 'lines'), columns) %}
{%- do check_transactions_timestamps(source('transactions', 'lines'), columns) %}
{%- set prefix = var('transactions_cancelled_order_id_prefix', none) %}
{%- set excluded_statuses = var('revenue_excluded_statuses') %}

with

source as (

    select * from {{ source('transactions', 'lines') }}

),

renamed as (

    select
        {%- for name in ['order_id', 'customer_id', 'product_id', 'product_category', 'region', 'city'] %}
        {% if name in columns -%}
        {{ transactions_text(columns[name]) }}
        {%- else -%}
        cast(null as {{ dbt.type_string() }})
        {%- endif %} as {{ name }},
        {%- endfor %}
        {% if 'status' in columns -%}
        lower({{ transactions_text(columns['status']) }})
        {%- else -%}
        cast(null as {{ dbt.type_string() }})
        {%- endif %} as status,
        {{ transactions_text(columns['ordered_at']) }} as ordered_at_text,
        {{ transactions_timestamp(columns['ordered_at']) }} as ordered_at,
        {%- for name in ['quantity', 'unit_price', 'amount'] %}
        {% if name in columns -%}
        {{ transactions_text(columns[name]) }}
        {%- else -%}
        cast(null as {{ dbt.type_string() }})
        {%- endif %} as {{ name }}_text,
        {% if name in columns -%}
        {{ transactions_number(columns[name]) }}
        {%- else -%}
        cast(null as decimal(18, 4))
        {%- endif %} as {{ name }},
        {%- endfor %}
        -- a stable line key: the same file gives the same keys whatever order DuckDB reads it in
        row_number() over (
            order by
            {%- for name, column in columns.items() | sort %}
                {{ transactions_text(column) }}{{ "," if not loop.last }}
            {%- endfor %}
        ) as line_number
    from source

),

valued as (

    select
        *,
        {% if 'amount' in columns -%}
        amount
        {%- else -%}
        cast(quantity * unit_price as decimal(18, 4))
        {%- endif %} as line_value,
        {% if 'amount' in columns -%}
        ordered_at is null or amount is null
            {%- if 'quantity' in columns %} or quantity is null{% endif %}
        {%- else -%}
        ordered_at is null or quantity is null or unit_price is null
        {%- endif %}
        {%- if 'order_id' in columns %} or order_id is null{% endif %} as is_unparseable,
        customer_id is null as is_without_customer,
        {% if prefix and 'order_id' in columns -%}
        coalesce(left(order_id, {{ prefix | length }}) = {{ sql_string(prefix) }}, false)
        {%- else -%}
        false
        {%- endif %} as is_cancelled_by_prefix,
        {% if 'status' in columns and excluded_statuses | length > 0 -%}
        coalesce(status in ({{ quoted_list(excluded_statuses) }}), false)
        {%- else -%}
        false
        {%- endif %} as is_cancelled_by_status,
        {% if 'amount' in columns -%}
        coalesce(amount < 0, false){% if 'quantity' in columns %} or coalesce(quantity < 0, false){% endif %}
        {%- else -%}
        coalesce(quantity < 0, false)
        {%- endif %} as is_return,
        {% if 'amount' in columns -%}
        coalesce(amount = 0, false){% if 'quantity' in columns %} or coalesce(quantity = 0, false){% endif %}
        {%- else -%}
        coalesce(unit_price <= 0, false) or coalesce(quantity = 0, false)
        {%- endif %} as is_non_positive_price
    from renamed

),

flagged as (

    select
        line_number,
        {% if 'order_id' in columns -%}
        order_id
        {%- else -%}
        'line-' || cast(line_number as {{ dbt.type_string() }})
        {%- endif %} as order_id,
        customer_id,
        ordered_at,
        ordered_at_text,
        quantity,
        quantity_text,
        unit_price,
        unit_price_text,
        amount,
        amount_text,
        line_value,
        product_id,
        product_category,
        region,
        city,
        status,
        is_unparseable,
        is_without_customer,
        is_cancelled_by_prefix or is_cancelled_by_status as is_cancelled,
        is_cancelled_by_prefix,
        is_return,
        is_non_positive_price,
        -- the first rule that applies, in this order: each line is counted under one rule only
        case
            when is_unparseable then 'unparseable'
            when is_without_customer then 'without_customer'
            when is_cancelled_by_prefix or is_cancelled_by_status then 'cancelled'
            when is_return then 'return'
            when is_non_positive_price then 'non_positive_price'
        end as exclusion_reason
    from valued

),

final as (

    select
        *,
        exclusion_reason is null as is_purchase_line
    from flagged

)

select * from final
