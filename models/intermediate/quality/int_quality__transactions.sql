{#- The data-quality rules of the transactions file (rows of data_quality_exclusions; input_format transactions
    only): every line that is not part of a purchase, under the first rule that applies to it
    (stg_transactions__lines.exclusion_reason), so the rules and the purchase lines add up to the file; exact
    duplicate lines and orders naming several customers (reported). -#}
{{ config(enabled=var('input_format', 'olist') == 'transactions') }}

with

source_transaction_lines as (

    select * from {{ source('transactions', 'lines') }}

),

transaction_lines as (

    select * from {{ ref('stg_transactions__lines') }}

),

table_rows as (

    {{ quality_counts('source_transaction_lines') }}

),

transaction_rules as (

    select 'unparseable' as exclusion_reason, 'transactions_unparseable_lines' as rule_name, 'excluded' as outcome,
        'Lines whose ordered_at, quantity, unit_price or amount is missing or does not parse: left out of every mart.'
            as rule_description
    union all
    select 'without_customer', 'transactions_lines_without_customer', 'excluded',
        'Lines without a customer_id: no customer to attribute them to, left out of every mart.'
    union all
    select 'cancelled', 'transactions_cancelled_lines', 'reported',
        'Lines of orders cancelled by var transactions_cancelled_order_id_prefix or a status in var '
        || {{ sql_string("revenue_excluded_statuses: not purchases; their absolute money is the customer's returns_value ") }}
        || '(affected_value is the money as in the file, negative for negative quantities).'
    union all
    select 'return', 'transactions_returned_lines', 'reported',
        'Lines with a negative quantity or amount in an order that is not cancelled (returns, corrections): not '
        || {{ sql_string("purchases; their absolute money is the customer's returns_value, never netted into monetary.") }}
    union all
    select 'non_positive_price', 'transactions_non_positive_price_lines', 'excluded',
        'Lines with a zero or negative unit price (or a zero amount) or a zero quantity: free items, adjustments; '
        || 'left out of the purchases.'

),

transaction_rule_counts as (

    select
        transaction_rules.rule_name,
        'transactions' as table_name,
        transaction_rules.outcome,
        count(transaction_lines.line_number) as affected_rows,
        coalesce(sum(transaction_lines.line_value), 0) as affected_value,
        transaction_rules.rule_description,
        count(distinct transaction_lines.order_id) as affected_orders
    from transaction_rules
    left join transaction_lines
        on transaction_rules.exclusion_reason = transaction_lines.exclusion_reason
    group by transaction_rules.rule_name, transaction_rules.outcome, transaction_rules.rule_description

),

transaction_duplicate_groups as (

    select
        order_id,
        count(*) - 1 as extra_lines,
        (count(*) - 1) * max(line_value) as extra_value
    from transaction_lines
    group by order_id, customer_id, ordered_at_text, quantity_text, unit_price_text, amount_text, product_id,
        product_category, region, city, status
    having count(*) > 1

),

transaction_duplicates as (

    select
        'transactions_exact_duplicate_lines' as rule_name,
        'transactions' as table_name,
        'reported' as outcome,
        coalesce(sum(extra_lines), 0) as affected_rows,
        coalesce(sum(extra_value), 0) as affected_value,
        'Lines identical to another line in every mapped column: kept (a file without line numbers cannot tell a '
        || 'repeated purchase from a repeated row); counts the extra copies.' as rule_description,
        count(distinct order_id) as affected_orders
    from transaction_duplicate_groups

),

transaction_orders_customers as (

    select
        order_id,
        count(*) as lines,
        sum(line_value) as line_value
    from transaction_lines
    where not is_unparseable
        and not is_without_customer
    group by order_id
    having count(distinct customer_id) > 1

),

transaction_orders_with_several_customers as (

    select
        'transactions_orders_with_several_customers' as rule_name,
        'transactions' as table_name,
        'reported' as outcome,
        coalesce(sum(lines), 0) as affected_rows,
        coalesce(sum(line_value), 0) as affected_value,
        'Orders whose lines name more than one customer_id: the whole order goes to the smallest id.'
            as rule_description,
        count(*) as affected_orders
    from transaction_orders_customers

),

rules as (

    select * from transaction_rule_counts
    union all
    select * from transaction_duplicates
    union all
    select * from transaction_orders_with_several_customers

),

final as (

    {{ quality_rule_rows(with_orders=true) }}

)

select * from final
