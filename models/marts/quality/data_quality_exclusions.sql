-- One row per data-quality rule: how many rows of which raw table the build deduplicated, excluded, defaulted or
-- merely reported, and how much money they carry. Counted by comparing each raw file with what the models kept,
-- so nothing leaves the marts without showing up here. Rates above var data_quality_thresholds warn or fail.

with

source_orders as (

    select * from {{ source('olist', 'orders') }}

),

source_order_items as (

    select * from {{ source('olist', 'order_items') }}

),

source_order_payments as (

    select * from {{ source('olist', 'order_payments') }}

),

source_order_reviews as (

    select * from {{ source('olist', 'order_reviews') }}

),

source_customers as (

    select * from {{ source('olist', 'customers') }}

),

source_products as (

    select * from {{ source('olist', 'products') }}

),

source_sellers as (

    select * from {{ source('olist', 'sellers') }}

),

source_geolocation as (

    select * from {{ source('olist', 'geolocation') }}

),

source_category_translation as (

    select * from {{ source('olist', 'category_translation') }}

),

orders as (

    select * from {{ ref('stg_olist__orders') }}

),

order_items as (

    select * from {{ ref('stg_olist__order_items') }}

),

order_payments as (

    select * from {{ ref('stg_olist__order_payments') }}

),

order_reviews as (

    select * from {{ ref('stg_olist__order_reviews') }}

),

customers as (

    select * from {{ ref('stg_olist__customers') }}

),

products as (

    select * from {{ ref('stg_olist__products') }}

),

sellers as (

    select * from {{ ref('stg_olist__sellers') }}

),

geolocation as (

    select * from {{ ref('stg_olist__geolocation') }}

),

category_translation as (

    select * from {{ ref('stg_olist__category_translation') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),
{%- if input_format() == 'transactions' %}

source_transaction_lines as (

    select * from {{ source('transactions', 'lines') }}

),

transaction_lines as (

    select * from {{ ref('stg_transactions__lines') }}

),
{%- endif %}

-- rows (and money) of each raw file, and what staging kept of them after collapsing exact duplicates

table_rows as (

    select 'orders' as table_name, count(*) as source_rows, cast(null as {{ dbt.type_numeric() }}) as source_value
    from source_orders
    union all
    select 'order_items', count(*), coalesce(sum(price + freight_value), 0)
    from source_order_items
    union all
    select 'order_payments', count(*), coalesce(sum(payment_value), 0)
    from source_order_payments
    union all
    select 'order_reviews', count(*), null
    from source_order_reviews
    union all
    select 'customers', count(*), null
    from source_customers
    union all
    select 'products', count(*), null
    from source_products
    union all
    select 'sellers', count(*), null
    from source_sellers
    union all
    select 'geolocation', count(*), null
    from source_geolocation
    union all
    select 'category_translation', count(*), null
    from source_category_translation
    {%- if input_format() == 'transactions' %}
    union all
    select 'transactions', count(*), null
    from source_transaction_lines
    {%- endif %}

),

staging_rows as (

    select 'orders' as table_name, count(*) as staging_rows, cast(null as {{ dbt.type_numeric() }}) as staging_value
    from orders
    union all
    select 'order_items', count(*), coalesce(sum(price + freight_value), 0)
    from order_items
    union all
    select 'order_payments', count(*), coalesce(sum(payment_value), 0)
    from order_payments
    union all
    select 'order_reviews', count(*), null
    from order_reviews
    union all
    select 'customers', count(*), null
    from customers
    union all
    select 'products', count(*), null
    from products
    union all
    select 'sellers', count(*), null
    from sellers
    union all
    select 'category_translation', count(*), null
    from category_translation

),

ordering_customers as (

    select distinct customer_id
    from orders

),

geolocation_points_kept as (

    select coalesce(sum(points), 0) as points
    from geolocation

),

exact_duplicates as (

    select
        table_rows.table_name || '_exact_duplicate_rows' as rule_name,
        table_rows.table_name,
        'deduplicated' as outcome,
        table_rows.source_rows - staging_rows.staging_rows as affected_rows,
        table_rows.source_value - staging_rows.staging_value as affected_value,
        'Rows identical to another row of the same file (after trimming ids): kept once.' as rule_description
    from table_rows
    inner join staging_rows
        on table_rows.table_name = staging_rows.table_name

),

-- child rows whose order is not in the orders file: they cannot be attributed and never reach fct_orders

items_of_unknown_orders as (

    select
        'order_items_of_unknown_order' as rule_name,
        'order_items' as table_name,
        'excluded' as outcome,
        count(*) as affected_rows,
        coalesce(sum(order_items.price + order_items.freight_value), 0) as affected_value,
        'Items whose order_id is not in the orders file: left out of fct_orders and every mart.' as rule_description
    from order_items
    left join orders
        on order_items.order_id = orders.order_id
    where orders.order_id is null

),

payments_of_unknown_orders as (

    select
        'order_payments_of_unknown_order' as rule_name,
        'order_payments' as table_name,
        'excluded' as outcome,
        count(*) as affected_rows,
        coalesce(sum(order_payments.payment_value), 0) as affected_value,
        'Payments whose order_id is not in the orders file: left out of fct_orders and every mart.' as rule_description
    from order_payments
    left join orders
        on order_payments.order_id = orders.order_id
    where orders.order_id is null

),

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

-- items kept with a default because their product or seller is unknown

items_of_unknown_products as (

    select
        'order_items_of_unknown_product' as rule_name,
        'order_items' as table_name,
        'defaulted' as outcome,
        count(*) as affected_rows,
        coalesce(sum(order_items.price + order_items.freight_value), 0) as affected_value,
        {{ sql_string("Items whose product_id is not in the products file: kept, category 'uncategorized'.") }} as rule_description
    from order_items
    left join products
        on order_items.product_id = products.product_id
    where products.product_id is null

),

items_of_unknown_sellers as (

    select
        'order_items_of_unknown_seller' as rule_name,
        'order_items' as table_name,
        'defaulted' as outcome,
        count(*) as affected_rows,
        coalesce(sum(order_items.price + order_items.freight_value), 0) as affected_value,
        'Items whose seller_id is not in the sellers file: kept, seller state unknown.' as rule_description
    from order_items
    left join sellers
        on order_items.seller_id = sellers.seller_id
    where sellers.seller_id is null

),

geolocation_outside_brazil as (

    select
        'geolocation_outside_brazil' as rule_name,
        'geolocation' as table_name,
        'excluded' as outcome,
        table_rows.source_rows - geolocation_points_kept.points as affected_rows,
        cast(null as {{ dbt.type_numeric() }}) as affected_value,
        'Zip-prefix points with no coordinates or outside var brazil_bounds: not used for the prefix location.'
            as rule_description
    from table_rows
    cross join geolocation_points_kept
    where table_rows.table_name = 'geolocation'

),

-- orders kept as they are, reported because their money does not add up

payment_mismatches as (

    select
        'orders_payment_not_equal_order_value' as rule_name,
        'orders' as table_name,
        'reported' as outcome,
        count(*) as affected_rows,
        coalesce(sum(payment_minus_order_value), 0) as affected_value,
        'Orders with payments whose total differs from items + freight (vouchers, interest): kept, money = payments.'
            as rule_description
    from fct_orders
    where payment_count > 0
        and payment_minus_order_value <> 0

),

purchases_without_payment as (

    select
        'purchases_without_payment' as rule_name,
        'orders' as table_name,
        'defaulted' as outcome,
        count(*) as affected_rows,
        coalesce(sum(order_value), 0) as affected_value,
        'Purchases with no payment row: kept, payment (monetary value) defaulted to 0; affected_value = their items + freight.'
            as rule_description
    from fct_orders
    where is_purchase
        and payment_count = 0

),

purchases_without_items as (

    select
        'purchases_without_items' as rule_name,
        'orders' as table_name,
        'reported' as outcome,
        count(*) as affected_rows,
        coalesce(sum(payment_value), 0) as affected_value,
        'Purchases with no item row: kept, no product category (affected_value = their payments).' as rule_description
    from fct_orders
    where is_purchase
        and item_count = 0

),

{%- if input_format() == 'transactions' %}

-- the transactions layout: every line that is not part of a purchase, under the first rule that applies to it
-- (stg_transactions__lines.exclusion_reason), so the rules and the purchase lines add up to the file

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
{%- endif %}

rules as (

    select * from exact_duplicates
    union all
    select * from items_of_unknown_orders
    union all
    select * from payments_of_unknown_orders
    union all
    select * from reviews_of_unknown_orders
    union all
    select * from customers_without_orders
    union all
    select * from items_of_unknown_products
    union all
    select * from items_of_unknown_sellers
    union all
    select * from geolocation_outside_brazil
    union all
    select * from payment_mismatches
    union all
    select * from purchases_without_payment
    union all
    select * from purchases_without_items

),

rules_with_orders as (

    select
        *,
        cast(null as {{ dbt.type_bigint() }}) as affected_orders
    from rules
    {%- if input_format() == 'transactions' %}
    union all
    select * from transaction_rule_counts
    union all
    select * from transaction_duplicates
    union all
    select * from transaction_orders_with_several_customers
    {%- endif %}

),

final as (

    select
        rules.rule_name,
        rules.table_name,
        rules.outcome,
        rules.rule_description,
        table_rows.source_rows as table_rows,
        cast(rules.affected_rows as {{ dbt.type_bigint() }}) as affected_rows,
        case
            when table_rows.source_rows = 0 then cast(0 as {{ type_double() }})
            else cast(rules.affected_rows as {{ type_double() }}) / table_rows.source_rows
        end as affected_rate,
        cast(rules.affected_value as {{ dbt.type_numeric() }}) as affected_value,
        cast(rules.affected_orders as {{ dbt.type_bigint() }}) as affected_orders
    from rules_with_orders as rules
    inner join table_rows
        on rules.table_name = table_rows.table_name

)

select * from final
