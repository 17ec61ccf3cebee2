-- The transition rows into a month sum to that month's snapshot size, and the rows that are not new
-- customers sum to the previous month's snapshot size (everyone in a snapshot stays in the next one).
with

snapshot_sizes as (

    select
        snapshot_month,
        count(*) as customers
    from {{ ref('segment_snapshots') }}
    group by snapshot_month

),

migration_into as (

    select
        snapshot_month,
        sum(customer_count) as customers,
        sum(case when not is_new_customer then customer_count else 0 end) as staying_customers
    from {{ ref('segment_migration') }}
    group by snapshot_month

),

compared as (

    select
        snapshot_sizes.snapshot_month,
        snapshot_sizes.customers as snapshot_customers,
        lag(snapshot_sizes.customers) over (order by snapshot_sizes.snapshot_month) as previous_snapshot_customers,
        migration_into.customers as migration_customers,
        migration_into.staying_customers
    from snapshot_sizes
    left join migration_into
        on snapshot_sizes.snapshot_month = migration_into.snapshot_month

)

select *
from compared
where migration_customers is null
    or migration_customers <> snapshot_customers
    or staying_customers <> coalesce(previous_snapshot_customers, 0)
