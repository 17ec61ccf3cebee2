-- Each snapshot holds exactly the customers who had bought by its as-of date, so its size never
-- decreases from one month to the next.
with

snapshot_sizes as (

    select
        snapshot_month,
        max(as_of_date) as as_of_date,
        count(*) as customers
    from {{ ref('segment_snapshots') }}
    group by snapshot_month

),

first_purchases as (

    select
        customer_unique_id,
        min(purchase_date) as first_purchase_date
    from {{ ref('int_segmentation__purchases') }}
    group by customer_unique_id

),

expected as (

    select
        snapshot_sizes.snapshot_month,
        snapshot_sizes.customers,
        lag(snapshot_sizes.customers) over (order by snapshot_sizes.snapshot_month) as previous_customers,
        (
            select count(*)
            from first_purchases
            where first_purchases.first_purchase_date <= snapshot_sizes.as_of_date
        ) as customers_bought_by_then
    from snapshot_sizes

)

select *
from expected
where customers < previous_customers
    or customers <> customers_bought_by_then
