with

orders as (

    select * from {{ ref('fct_orders') }}

),

purchases as (

    -- purchases only (var revenue_excluded_statuses, applied in fct_orders.is_purchase)
    select
        order_id,
        customer_unique_id,
        purchased_at,
        purchase_date,
        payment_value
    from orders
    where is_purchase

),

latest_purchase as (

    select max(purchase_date) as latest_purchase_date
    from purchases

),

reference_date as (

    -- one row: var analysis_date, or the day after the latest purchase date when it is null
    select
        {{ segmentation_analysis_date('latest_purchase_date') }} as analysis_date
    from latest_purchase

),

final as (

    -- purchases made before the analysis date: everything when analysis_date is the default
    select
        purchases.order_id,
        purchases.customer_unique_id,
        purchases.purchased_at,
        purchases.purchase_date,
        purchases.payment_value,
        cast({{ dbt.date_trunc('month', 'purchases.purchase_date') }} as date) as purchase_month,
        {{ segmentation_xyz_period_start('purchases.purchase_date') }} as xyz_period_start,
        reference_date.analysis_date
    from purchases
    cross join reference_date
    where purchases.purchase_date < reference_date.analysis_date

)

select * from final
