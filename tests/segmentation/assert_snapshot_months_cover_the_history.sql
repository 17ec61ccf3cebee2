-- One snapshot for every month from the first purchase month to the month of the day before the
-- analysis date, with no gap (fails too if the history outgrows var snapshot_max_months).
with

purchases as (

    select * from {{ ref('int_segmentation__purchases') }}

),

expected as (

    select
        min(purchase_month) as first_month,
        cast({{ dbt.date_trunc('month', dbt.dateadd('day', -1, 'max(analysis_date)')) }} as date) as last_month
    from purchases

),

actual as (

    select
        min(snapshot_month) as first_month,
        max(snapshot_month) as last_month,
        count(distinct snapshot_month) as months
    from {{ ref('segment_snapshots') }}

)

select
    expected.*,
    actual.*
from expected
cross join actual
where expected.first_month <> actual.first_month
    or expected.last_month <> actual.last_month
    or actual.months <> {{ dbt.datediff('expected.first_month', 'expected.last_month', 'month') }} + 1  -- noqa: LT05
