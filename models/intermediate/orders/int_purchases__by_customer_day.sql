-- One row per customer and calendar day with a purchase before the analysis date. Buy-till-you-die models
-- count transactions, and several orders of one customer on one day are one visit (the convention of the
-- CLV literature: CDNOW's 6,919 rows are 6,696 customer-days).

with

purchases as (

    select * from {{ ref('int_segmentation__purchases') }}

),

final as (

    select
        customer_unique_id,
        purchase_date,
        count(*) as order_count,
        sum(payment_value) as purchase_value,
        max(analysis_date) as analysis_date
    from purchases
    group by
        customer_unique_id,
        purchase_date

)

select * from final
