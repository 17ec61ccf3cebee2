{{ config(enabled=var('input_format', 'olist') == 'transactions') }}
-- Transactions layout: every line of the file is a purchase line or counted under exactly one rule of
-- data_quality_exclusions, and fct_orders holds exactly the money of the purchase lines (as payment_value of
-- purchases) and of the cancelled and returned lines (as returns_value). Any loss or fan-out returns a row.

with

source_lines as (

    select count(*) as line_count
    from {{ source('transactions', 'lines') }}

),

lines as (

    select * from {{ ref('stg_transactions__lines') }}

),

exclusions as (

    select * from {{ ref('data_quality_exclusions') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

line_rules as (

    select coalesce(sum(affected_rows), 0) as affected_rows
    from exclusions
    where rule_name in (
        'transactions_unparseable_lines', 'transactions_lines_without_customer', 'transactions_cancelled_lines',
        'transactions_returned_lines', 'transactions_non_positive_price_lines'
    )

),

line_totals_by_order as (

    -- orders hold their money in cents: round each order's lines the same way
    select
        order_id,
        sum(case when is_purchase_line then 1 else 0 end) as purchase_lines,
        round(coalesce(sum(case when is_purchase_line then line_value end), 0), 2) as purchase_value,
        round(coalesce(sum(case when exclusion_reason in ('cancelled', 'return') then abs(line_value) end), 0), 2)
            as returns_value
    from lines
    group by order_id

),

line_totals as (

    select
        coalesce(sum(purchase_lines), 0) as purchase_lines,
        coalesce(sum(purchase_value), 0) as purchase_value,
        coalesce(sum(returns_value), 0) as returns_value
    from line_totals_by_order

),

order_totals as (

    select
        coalesce(sum(case when is_purchase then payment_value end), 0) as purchase_value,
        coalesce(sum(returns_value), 0) as returns_value
    from orders

),

comparison as (

    select
        'lines' as measure,
        cast(source_lines.line_count as {{ dbt.type_numeric() }}) as expected,
        cast(line_totals.purchase_lines + line_rules.affected_rows as {{ dbt.type_numeric() }}) as actual
    from source_lines
    cross join line_totals
    cross join line_rules
    union all
    select 'purchase_value', line_totals.purchase_value, order_totals.purchase_value
    from line_totals
    cross join order_totals
    union all
    select 'returns_value', line_totals.returns_value, order_totals.returns_value
    from line_totals
    cross join order_totals

)

select * from comparison
where expected is distinct from actual
