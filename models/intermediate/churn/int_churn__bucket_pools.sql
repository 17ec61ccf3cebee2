-- One row per snapshot month and raw purchase-count bucket (var churn_purchase_count_buckets): which bucket's
-- survival curve it uses that month. A bucket with fewer than var churn_min_episodes gap episodes opened by the
-- month end (returned or still open) pools with the bucket below, from the top down: with [1, 2, 3] and few
-- 3+ episodes, 3+ joins 2 ("2+"); if 2 and 3+ together are still too few, all pool into "1+". Bucket 1 always
-- stands (it holds every customer's first episode). Counts use only purchase days up to the month end.

{%- set buckets = churn_purchase_count_buckets() %}
{%- set minimum = churn_min_episodes() %}
{%- set accumulated = {} %}
{%- for i in range(buckets | length - 1, -1, -1) %}
{%- if i == buckets | length - 1 %}
{%- do accumulated.update({i: 'episodes_' ~ i}) %}
{%- else %}
{%- do accumulated.update({i: '(episodes_' ~ i ~ ' + case when ' ~ accumulated[i + 1] ~ ' < ' ~ minimum
    ~ ' then ' ~ accumulated[i + 1] ~ ' else 0 end)'}) %}
{%- endif %}
{%- endfor %}

with

purchase_days as (

    select * from {{ ref('int_churn__purchase_days') }}

),

customer_months as (

    select * from {{ ref('int_segmentation__customer_months') }}

),

{{ segmentation_snapshot_date_ctes('customer_months') }},

buckets as (
    {{ churn_bucket_rows() }}
),

episodes_by_month as (

    select
        purchase_month,
        purchase_day_bucket,
        count(*) as episode_count
    from purchase_days
    group by
        purchase_month,
        purchase_day_bucket

),

episodes as (

    -- every purchase day up to the month end opened one episode (all purchases of a month lie before its reference
    -- date)
    select
        snapshot_dates.snapshot_month,
        buckets.purchase_day_bucket,
        buckets.bucket_max_purchase_days,
        buckets.bucket_index,
        coalesce(sum(episodes_by_month.episode_count), 0) as episode_count
    from snapshot_dates
    cross join buckets
    left join episodes_by_month
        on snapshot_dates.snapshot_month >= episodes_by_month.purchase_month
        and buckets.purchase_day_bucket = episodes_by_month.purchase_day_bucket
    group by
        snapshot_dates.snapshot_month,
        buckets.purchase_day_bucket,
        buckets.bucket_max_purchase_days,
        buckets.bucket_index

),

month_counts as (

    -- noqa: disable=LT02
    -- (LT02 misreads the select lists that Jinja loops write, here and in pool_heads)
    select
        snapshot_month,
        {%- for b in buckets %}
        sum(case when bucket_index = {{ loop.index0 }} then episode_count else 0 end)
            as episodes_{{ loop.index0 }}{{ "," if not loop.last }}
        {%- endfor %}
    from episodes
    group by snapshot_month

),

pool_heads as (

    -- head_<i>: index of the bucket that raw bucket i pools into, the highest j <= i whose episodes
    -- (its own plus those pooled down into it from above) reach the minimum; 0 if none
    select
        snapshot_month,
        {%- for i in range(buckets | length) %}
        {%- if i == 0 %}
        0 as head_0{{ "," if not loop.last }}
        {%- else %}
        case
            {%- for j in range(i, 0, -1) %}
            when {{ accumulated[j] }} >= {{ minimum }} then {{ j }}
            {%- endfor %}
            else 0
        end as head_{{ i }}{{ "," if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from month_counts
    -- noqa: enable=LT02

),

pooled as (

    select
        episodes.snapshot_month,
        episodes.purchase_day_bucket,
        episodes.bucket_max_purchase_days,
        episodes.episode_count,
        case episodes.bucket_index
            {%- for i in range(buckets | length) %}
            when {{ i }} then pool_heads.head_{{ i }}
            {%- endfor %}
        end as pooled_bucket_index
    from episodes
    inner join pool_heads
        on episodes.snapshot_month = pool_heads.snapshot_month

),

pools as (

    select
        pooled.snapshot_month,
        pooled.pooled_bucket_index,
        min(pooled.purchase_day_bucket) as churn_bucket,
        case
            when count(pooled.bucket_max_purchase_days) < count(*) then null
            else max(pooled.bucket_max_purchase_days)
        end as churn_bucket_max_purchase_days,
        sum(pooled.episode_count) as churn_bucket_episode_count
    from pooled
    group by
        pooled.snapshot_month,
        pooled.pooled_bucket_index

),

final as (

    select
        pooled.snapshot_month,
        snapshot_dates.as_of_date,
        pooled.purchase_day_bucket,
        pooled.episode_count,
        pools.churn_bucket,
        pools.churn_bucket_max_purchase_days,
        case
            when pools.churn_bucket_max_purchase_days is null
                then {{ dbt.concat(["cast(pools.churn_bucket as " ~ dbt.type_string() ~ ")", "'+'"]) }}
            when pools.churn_bucket_max_purchase_days = pools.churn_bucket
                then cast(pools.churn_bucket as {{ dbt.type_string() }})
            else {{ dbt.concat([
                "cast(pools.churn_bucket as " ~ dbt.type_string() ~ ")",
                "'-'",
                "cast(pools.churn_bucket_max_purchase_days as " ~ dbt.type_string() ~ ")"
            ]) }}
        end as churn_bucket_label,
        pools.churn_bucket_episode_count
    from pooled
    inner join pools
        on pooled.snapshot_month = pools.snapshot_month
        and pooled.pooled_bucket_index = pools.pooled_bucket_index
    inner join snapshot_dates
        on pooled.snapshot_month = snapshot_dates.snapshot_month

)

select * from final
