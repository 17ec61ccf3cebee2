-- clv_history_scores is scored per distinct history and customer_lifetime_value joins it back to the customers:
-- the histories' customers must add up to the summary's customers, and the join must find every one of them
-- (a key that did not round-trip through the Python model exactly would drop customers here).

with

summary as (

    select count(*) as customers from {{ ref('int_clv__customer_summary') }}

),

histories as (

    select coalesce(sum(customers), 0) as customers from {{ ref('clv_history_scores') }}

),

lifetime_value as (

    select count(*) as customers from {{ ref('customer_lifetime_value') }}

),

final as (

    select
        summary.customers as summary_customers,
        histories.customers as history_customers,
        lifetime_value.customers as lifetime_value_customers
    from summary
    cross join histories
    cross join lifetime_value
    where summary.customers <> histories.customers
        or summary.customers <> lifetime_value.customers

)

select * from final
