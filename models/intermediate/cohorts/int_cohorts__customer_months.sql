with

purchases as (

    -- purchases before the analysis date (var analysis_date, else the day after the latest purchase), as
    -- customer_rfm sees them: a purchase on or after an explicit analysis date is not in any cohort
    select * from {{ ref('int_segmentation__purchases') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

purchases_ranked as (

    select
        purchases.customer_unique_id,
        purchases.purchase_month,
        purchases.payment_value,
        purchases.analysis_date,
        orders.customer_state,
        row_number() over (
            partition by purchases.customer_unique_id
            order by purchases.purchased_at, purchases.order_id
        ) as purchase_number
    from purchases
    inner join orders
        on purchases.order_id = orders.order_id
    where purchases.customer_unique_id is not null

),

first_purchase_states as (

    -- the state of the address on the customer's first purchase order: known when the cohort forms, and the
    -- same for every month of the customer (a later move or a later canceled order does not change it)
    select
        customer_unique_id,
        customer_state as first_purchase_state
    from purchases_ranked
    where purchase_number = 1

),

customer_months as (

    select
        customer_unique_id,
        purchase_month as activity_month,
        count(*) as purchase_count,
        sum(payment_value) as revenue,
        max(analysis_date) as analysis_date
    from purchases_ranked
    group by
        customer_unique_id,
        purchase_month

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
        {{ calendar_month_diff('with_cohort.cohort_month', 'with_cohort.activity_month') }} as months_since_first, -- noqa: LT05
        first_purchase_states.first_purchase_state,
        with_cohort.purchase_count,
        with_cohort.revenue,
        with_cohort.analysis_date
    from with_cohort
    left join first_purchase_states
        on with_cohort.customer_unique_id = first_purchase_states.customer_unique_id

)

select * from final
