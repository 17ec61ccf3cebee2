with

orders as (

    select * from {{ ref('fct_orders') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

purchases as (

    -- purchases only (fct_orders.is_purchase follows var revenue_excluded_statuses); already order grain
    select
        customer_unique_id,
        {{ month_start('purchase_date') }} as activity_month,
        payment_value
    from orders
    where is_purchase
        and customer_unique_id is not null

),

customer_months as (

    select
        customer_unique_id,
        activity_month,
        count(*) as purchase_count,
        sum(payment_value) as revenue
    from purchases
    group by
        customer_unique_id,
        activity_month

),

with_cohort as (

    -- the cohort is the calendar month of the customer's first purchase
    select
        customer_months.*,
        min(activity_month) over (partition by customer_unique_id) as cohort_month
    from customer_months

),

final as (

    select
        with_cohort.customer_unique_id,
        with_cohort.cohort_month,
        with_cohort.activity_month,
        {{ calendar_month_diff('with_cohort.cohort_month', 'with_cohort.activity_month') }} as months_since_first,
        customers.customer_state,
        with_cohort.purchase_count,
        with_cohort.revenue
    from with_cohort
    left join customers
        on with_cohort.customer_unique_id = customers.customer_unique_id

)

select * from final
