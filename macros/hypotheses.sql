{#- The 18 product hypotheses of the seed, one macro each.

    hypothesis_hNN(output='result') -> the one standard row of the mart hypothesis_results
    hypothesis_hNN(output='detail') -> the per-group / per-decile table, rendered by analyses/hNN_*.sql

    Each macro builds `units` at the grain the hypothesis is about (one row per purchase order, purchasing
    customer, ordered product or calendar day) from the int_hypotheses__* models, which hold each measure
    once per unit (items, payments and reviews rolled up to the order before any join). The statistics are
    in macros/stats.sql (hypothesis_test). Statements, the seed's figures and notes on the seed's grain are
    in seeds/hypothesis_catalog.csv. Every threshold is a var (hypothesis_* in dbt_project.yml).
-#}


{#- True when the city is one of var hypothesis_large_cities (city names are lower-cased in staging). -#}
{% macro is_large_city(city_expr) -%}
    coalesce({{ city_expr }} in ({{ quoted_list(var('hypothesis_large_cities')) }}), false)
{%- endmacro %}


{% macro _large_city_label() -%}
    {{ return('large city (' ~ var('hypothesis_large_cities') | join(', ') ~ ')') }}
{%- endmacro %}


{#- H01 · customers in large cities buy more often. Grain: purchasing customer. -#}
{% macro hypothesis_h01(output='result') %}
with

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

units as (

    select
        case when is_large_city then '{{ _large_city_label() }}' else 'other city' end as group_label,
        purchase_count as value
    from customers

),
{{ hypothesis_test(
    kind='two_means', output=output, hypothesis_id='H01', grain='customer',
    metric='mean purchases per purchasing customer, large city minus other cities (city of the latest order)',
    group_a=_large_city_label(), group_b='other city', direction='positive'
) }}
{% endmacro %}


{#- H02 · more photos, more orders. Grain: product ordered at least once. -#}
{% macro hypothesis_h02(output='result') %}
with

products as (

    select * from {{ ref('int_hypotheses__products') }}

),

units as (

    select
        product_photos_qty as x,
        purchase_orders as y
    from products

),
{{ hypothesis_test(
    kind='correlation', output=output, hypothesis_id='H02', grain='product',
    metric='Pearson r between the number of photos of a product and the number of purchases (orders) that contain it',
    x_label='mean photos per product', y_label='mean orders per product', direction='positive'
) }}
{% endmacro %}


{#- H03 · reviewers are more loyal. Grain: purchasing customer; needs reviews. -#}
{% macro hypothesis_h03(output='result') %}
with

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

review_coverage as (

    -- without any review in the data the question cannot be asked: no units, n = 0
    select count(*) as reviewed_orders
    from orders
    where has_review

),

units as (

    -- the review of the first purchase, then the purchases that followed it: buying more cannot
    -- mechanically create more chances to review
    select
        case when customers.first_purchase_reviewed then 'reviewed first purchase' else 'did not review' end as group_label,
        customers.purchase_count - 1 as value
    from customers
    cross join review_coverage
    where review_coverage.reviewed_orders > 0

),
{{ hypothesis_test(
    kind='two_means', output=output, hypothesis_id='H03', grain='customer',
    metric='mean number of purchases after the first, customers who reviewed their first purchase minus those who did not',
    group_a='reviewed first purchase', group_b='did not review', direction='positive'
) }}
{% endmacro %}


{#- H04 · some payment types come with bigger orders. Grain: purchase order (type of its largest payment). -#}
{% macro hypothesis_h04(output='result') %}
with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        main_payment_type as group_label,
        payment_value as value
    from orders
    where main_payment_type is not null

),
{{ hypothesis_test(
    kind='extreme_means', output=output, hypothesis_id='H04', grain='order',
    metric='mean amount paid per order by the type of its largest payment: highest minus lowest type',
    direction='any'
) }}
{% endmacro %}


{#- H05 · longer descriptions, more orders. Grain: product ordered at least once. -#}
{% macro hypothesis_h05(output='result') %}
with

products as (

    select * from {{ ref('int_hypotheses__products') }}

),

units as (

    select
        product_description_length as x,
        purchase_orders as y
    from products

),
{{ hypothesis_test(
    kind='correlation', output=output, hypothesis_id='H05', grain='product',
    metric='Pearson r between the description length of a product (characters) and the number of orders that contain it',
    x_label='mean description length', y_label='mean orders per product', direction='positive'
) }}
{% endmacro %}


{#- H06 · purchases rise in the sales / holiday season. Grain: calendar day.
    The season (var hypothesis_season_months, consecutive months within one year, at most 4) is compared with
    as many months just before and just after it: a symmetric baseline cancels a steady growth trend, which a
    comparison with "the rest of the year" would take for seasonality. Only seasons whose whole window
    (baseline before, season, baseline after) lies inside the data count; days without a purchase count 0. -#}
{% macro hypothesis_h06(output='result') %}
{%- set season_months = var('hypothesis_season_months') | sort -%}
{%- set first_month = season_months[0] -%}
{%- set season_length = season_months | length -%}
{%- if season_months[-1] - first_month + 1 != season_length or season_length > 4 -%}
    {{ exceptions.raise_compiler_error('var hypothesis_season_months must be 1 to 4 consecutive months of one year, got ' ~ season_months) }}
{%- endif -%}
{%- set season_label = 'months ' ~ season_months | join(', ') -%}
{%- set baseline_label = season_length ~ ' months before and after' -%}
with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

day_offsets as (

    -- as many days as the cohort month spine covers months
    {{ integer_offsets(var('cohort_max_months') * 31) }}

),

data_range as (

    select
        min(purchase_date) as first_day,
        max(purchase_date) as last_day,
        min(purchase_year) as first_year,
        cast({{ dbt.date_trunc('year', 'min(purchase_date)') }} as date) as first_year_start
    from orders

),

season_windows as (

    -- months_to_season: months from 1 January of the first year to the start of that year's season
    select
        {{ add_months('data_range.first_year_start', 'years.months_to_season - ' ~ season_length) }} as window_start,
        {{ add_months('data_range.first_year_start', 'years.months_to_season') }} as season_start,
        {{ add_months('data_range.first_year_start', 'years.months_to_season + ' ~ season_length) }} as season_end,
        {{ add_months('data_range.first_year_start', 'years.months_to_season + ' ~ (2 * season_length)) }} as window_end
    from (
        select distinct (orders.purchase_year - data_range.first_year) * 12 + {{ first_month - 1 }} as months_to_season
        from orders
        cross join data_range
    ) as years
    cross join data_range

),

covered_windows as (

    select season_windows.*
    from season_windows
    cross join data_range
    where season_windows.window_start >= data_range.first_day
        and season_windows.window_end <= cast({{ dbt.dateadd('day', 1, 'data_range.last_day') }} as date)

),

calendar_days as (

    select
        cast({{ dbt.dateadd('day', 'day_offsets.offset_number', 'data_range.first_day') }} as date) as calendar_day
    from data_range
    inner join day_offsets
        on day_offsets.offset_number <= {{ dbt.datediff('data_range.first_day', 'data_range.last_day', 'day') }}

),

daily_purchases as (

    select
        purchase_date,
        count(*) as purchases
    from orders
    group by purchase_date

),

units as (

    select
        case
            when calendar_days.calendar_day >= covered_windows.season_start
                and calendar_days.calendar_day < covered_windows.season_end
                then '{{ season_label }}'
            else '{{ baseline_label }}'
        end as group_label,
        coalesce(daily_purchases.purchases, 0) as value
    from calendar_days
    inner join covered_windows
        on calendar_days.calendar_day >= covered_windows.window_start
        and calendar_days.calendar_day < covered_windows.window_end
    left join daily_purchases
        on calendar_days.calendar_day = daily_purchases.purchase_date

),
{{ hypothesis_test(
    kind='two_means', output=output, hypothesis_id='H06', grain='day',
    metric='mean purchases per day in the season (' ~ season_label ~ ') minus the ' ~ baseline_label ~ ' it; only seasons the data cover whole',
    group_a=season_label, group_b=baseline_label, direction='positive'
) }}
{% endmacro %}


{#- H07 · faster delivery, better reviews. Grain: delivered purchase order with a review. -#}
{% macro hypothesis_h07(output='result') %}
with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        delivery_days as x,
        review_score as y
    from orders
    where has_review

),
{{ hypothesis_test(
    kind='correlation', output=output, hypothesis_id='H07', grain='order',
    metric='Pearson r between delivery time (days from purchase to delivery) and the review score of the order',
    x_label='mean delivery days', y_label='mean review score', direction='negative'
) }}
{% endmacro %}


{#- H08 · the weekday of the first purchase predicts buying again. Grain: purchasing customer. -#}
{% macro hypothesis_h08(output='result') %}
with

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

units as (

    select
        {{ iso_day_name('first_purchase_iso_weekday') }} as group_label,
        case when is_repeat_customer then 1 else 0 end as value
    from customers

),
{{ hypothesis_test(
    kind='extreme_means', output=output, hypothesis_id='H08', grain='customer',
    metric='repeat-buyer rate (2+ purchases) by weekday of the first purchase: highest minus lowest weekday',
    variance='pop', direction='any'
) }}
{% endmacro %}


{#- H09 · orders peak at certain hours (the seed: 10:00-16:59). Grain: purchase order. -#}
{% macro hypothesis_h09(output='result') %}
{%- set first_hour = var('hypothesis_peak_hours')[0] -%}
{%- set last_hour = var('hypothesis_peak_hours')[1] -%}
with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        lpad(cast(purchase_hour as {{ dbt.type_string() }}), 2, '0') as group_label,
        case when purchase_hour between {{ first_hour }} and {{ last_hour }} then 1 else 0 end as value
    from orders

),
{{ hypothesis_test(
    kind='share_vs_expected', output=output, hypothesis_id='H09', grain='order',
    metric='share of purchases placed between ' ~ first_hour ~ ':00 and ' ~ last_hour ~ ':59 minus the share those hours would get if orders were spread evenly over the day',
    expected='(' ~ last_hour ~ ' - ' ~ first_hour ~ ' + 1) / 24.0',
    group_a='observed share ' ~ first_hour ~ '-' ~ last_hour ~ 'h', group_b='uniform share', direction='positive'
) }}
{% endmacro %}


{#- H10 · orders concentrate on certain weekdays. Grain: purchase order. -#}
{% macro hypothesis_h10(output='result') %}
with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select {{ iso_day_name('purchase_iso_weekday') }} as group_label
    from orders

),
{{ hypothesis_test(
    kind='extreme_shares', output=output, hypothesis_id='H10', grain='order',
    metric='share of purchases on the busiest weekday minus the quietest weekday',
    direction='any'
) }}
{% endmacro %}


{#- H11 · faster delivery, more repeat purchases. Grain: purchasing customer whose first purchase was delivered. -#}
{% macro hypothesis_h11(output='result') %}
with

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

units as (

    -- the delivery of the first purchase, which precedes any decision to buy again
    select
        case when is_repeat_customer then 'repeat buyer' else 'one-time buyer' end as group_label,
        first_purchase_delivery_days as value
    from customers
    where first_purchase_delivery_days is not null

),
{{ hypothesis_test(
    kind='two_means', output=output, hypothesis_id='H11', grain='customer',
    metric='mean delivery days of the first purchase, one-time buyers minus repeat buyers',
    group_a='one-time buyer', group_b='repeat buyer', direction='positive'
) }}
{% endmacro %}


{#- H12 · buyers of cheaper items buy again more often. Grain: purchasing customer with items in the first purchase. -#}
{% macro hypothesis_h12(output='result') %}
with

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

priced as (

    select * from customers
    where first_purchase_mean_item_price is not null

),

price_cut as (

    select
        percentile_cont({{ var('hypothesis_cheap_price_quantile') }}) within group (
            order by first_purchase_mean_item_price
        ) as cheap_max_price
    from priced

),

units as (

    select
        case
            when priced.first_purchase_mean_item_price <= price_cut.cheap_max_price then 'cheap'
            else 'expensive'
        end as group_label,
        case when priced.is_repeat_customer then 1 else 0 end as value
    from priced
    cross join price_cut

),
{{ hypothesis_test(
    kind='two_means', output=output, hypothesis_id='H12', grain='customer',
    metric='repeat-buyer rate, customers whose first purchase had a mean item price at or below the quantile ' ~ var('hypothesis_cheap_price_quantile') ~ ' (cheap) minus the others (expensive)',
    group_a='cheap', group_b='expensive', variance='pop', direction='positive'
) }}
{% endmacro %}


{#- H13 · frequent buyers review more. Grain: purchasing customer; needs reviews. -#}
{% macro hypothesis_h13(output='result') %}
with

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

review_coverage as (

    select count(*) as reviewed_orders
    from orders
    where has_review

),

units as (

    -- the share of purchases reviewed, not "any review": more purchases are more chances to review
    select
        customers.purchase_count as x,
        customers.reviewed_share as y
    from customers
    cross join review_coverage
    where review_coverage.reviewed_orders > 0

),
{{ hypothesis_test(
    kind='correlation', output=output, hypothesis_id='H13', grain='customer',
    metric='Pearson r between the number of purchases of a customer and the share of those purchases they reviewed',
    x_label='mean purchases per customer', y_label='mean share of purchases reviewed', direction='positive'
) }}
{% endmacro %}


{#- H14 · seller region matters for scores. Grain: single-seller purchase order with a review. -#}
{% macro hypothesis_h14(output='result') %}
with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    -- orders with one seller only, so that the score belongs to that seller's region
    select
        main_seller_region as group_label,
        review_score as value
    from orders
    where has_review
        and distinct_sellers = 1

),
{{ hypothesis_test(
    kind='extreme_means', output=output, hypothesis_id='H14', grain='order',
    metric='mean review score by macro-region of the seller (single-seller orders): highest minus lowest region',
    direction='any'
) }}
{% endmacro %}


{#- H15 · items per order vs score. Grain: purchase order with items and a review. -#}
{% macro hypothesis_h15(output='result') %}
with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        item_count as x,
        review_score as y
    from orders
    where has_review
        and item_count > 0

),
{{ hypothesis_test(
    kind='correlation', output=output, hypothesis_id='H15', grain='order',
    metric='Pearson r between the number of items in an order and its review score (each order counted once)',
    x_label='mean items per order', y_label='mean review score', direction='any'
) }}
{% endmacro %}


{#- H16 · scores vary by month. Grain: purchase order with a review. -#}
{% macro hypothesis_h16(output='result') %}
with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        {{ month_name('purchase_month') }} as group_label,
        review_score as value
    from orders
    where has_review

),
{{ hypothesis_test(
    kind='extreme_means', output=output, hypothesis_id='H16', grain='order',
    metric='mean review score by calendar month of purchase: highest minus lowest month',
    direction='any'
) }}
{% endmacro %}


{#- H17 · people in big cities buy more expensive orders. Grain: purchase order (city of its address). -#}
{% macro hypothesis_h17(output='result') %}
with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        case when is_large_city then '{{ _large_city_label() }}' else 'other city' end as group_label,
        payment_value as value
    from orders

),
{{ hypothesis_test(
    kind='two_means', output=output, hypothesis_id='H17', grain='order',
    metric='mean amount paid per purchase, large city minus other cities (city of the order address)',
    group_a=_large_city_label(), group_b='other city', direction='positive'
) }}
{% endmacro %}


{#- H18 · longer delivery, lower score. Grain: delivered purchase order with a review of 1 or 5. -#}
{% macro hypothesis_h18(output='result') %}
with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        {{ dbt.concat(["'score '", "cast(review_score as " ~ dbt.type_string() ~ ")"]) }} as group_label,
        delivery_days as value
    from orders
    where has_review
        and delivery_days is not null

),
{{ hypothesis_test(
    kind='two_means', output=output, hypothesis_id='H18', grain='order',
    metric='mean delivery days of orders scored 1 minus orders scored 5',
    group_a='score 1', group_b='score 5', direction='positive'
) }}
{% endmacro %}
