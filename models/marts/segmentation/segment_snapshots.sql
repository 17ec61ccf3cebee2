-- Every customer who had bought by each month end, with RFM, rfm_tier, churn risk and ABC-XYZ segment computed
-- as of that date: thresholds, ranks and shares are recomputed within each snapshot. Built in one
-- set-based pass: a month spine range-joined to per-customer running totals (int_segmentation__customer_months).
-- Size: (customers who had bought by then) summed over months, i.e. at most customers x months (90 M rows at
-- 10 M orders). So that this fits a 4 GB DuckDB cap, no step holds a whole snapshot in one sort or ordered
-- aggregate: quantile thresholds come from counts of distinct values, ABC shares from sums per distinct
-- monetary value, and the wide customer-month CTEs are recomputed by each reader instead of materialized.
-- rfm_segment: the recency quintile (grouped percentiles like the scores) and the purchase count, looked up by an
-- equality join in the expanded rfm_segments grid (rfm_segment_cells, a few dozen rows). XYZ window: first purchase
-- period .. last complete period before the reference date; its sum and sum of squares are the running totals of
-- int_segmentation__customer_months minus the latest period's spend while that period is incomplete (only it can
-- be), and its length counts the trailing periods without a purchase, so no per-snapshot pass over periods.
-- The last snapshot (reference date = analysis_date) reproduces customer_rfm, customer_abc_xyz and customer_churn.
-- churn_probability / churn_risk: the customer's purchase days and days of silence at the month end, looked up
-- (equality join) in that month's Kaplan-Meier curve (int_churn__gap_survival, built from gaps known by then);
-- churn_risk uses the absolute var churn_risk_thresholds, the same in every month. rfm_tier is the old relative tier.

-- With var segment_snapshots_incremental (default false), incremental on DuckDB (delete+insert by snapshot_month:
-- whole months are replaced, see the YAML): a run recomputes only the months from the first one whose input
-- differs from what its stored rows saw (count of customers, sum of frequency and of monetary per month, against
-- the same running totals of int_segmentation__customer_months), and at the latest from the latest stored month
-- (it may have been partial).
-- A change of a var or seed that alters past months needs --full-refresh. Other engines: a table.

{%- set incremental = var('segment_snapshots_incremental') %}
{%- if incremental not in [true, false] %}
    {{ exceptions.raise_compiler_error(
        "var segment_snapshots_incremental must be true or false, got " ~ incremental
    ) }}
{%- endif %}

{{ config(
    materialized='incremental' if (incremental and target.type == 'duckdb') else 'table',
    incremental_strategy='delete+insert',
    unique_key='snapshot_month',
    on_schema_change='fail'
) }}

with

customer_months as (

    select * from {{ ref('int_segmentation__customer_months') }}

),

rfm_segment_map as (

    select * from {{ ref('rfm_segments') }}

),

segment_descriptions as (

    select * from {{ ref('abc_xyz_segments') }}

),

bucket_pools as (

    select * from {{ ref('int_churn__bucket_pools') }}

),

gap_survival as (

    select * from {{ ref('int_churn__gap_survival') }}

),

{{ segmentation_snapshot_date_ctes('customer_months') }},
{%- if is_incremental() %}

stored_snapshots as (

    -- what each stored month saw: its customers, their purchases and money (monetary is a decimal: exact sums)
    select
        snapshot_month,
        count(*) as customer_count,
        sum(frequency) as purchase_count,
        sum(monetary) as monetary_total
    from {{ this }}
    group by snapshot_month

),

month_purchases as (

    select
        purchase_month,
        sum(case when first_purchase_date >= purchase_month then 1 else 0 end) as new_customer_count,
        sum(month_purchase_count) as purchase_count,
        sum(month_monetary) as monetary_total
    from customer_months
    group by purchase_month

),

input_snapshots as (

    -- the same figures from the input: running totals of the months up to the snapshot month
    select
        snapshot_dates.snapshot_month,
        sum(month_purchases.new_customer_count) as customer_count,
        sum(month_purchases.purchase_count) as purchase_count,
        sum(month_purchases.monetary_total) as monetary_total
    from snapshot_dates
    inner join month_purchases
        on snapshot_dates.snapshot_month >= month_purchases.purchase_month
    group by snapshot_dates.snapshot_month

),

changed_months as (

    select input_snapshots.snapshot_month
    from input_snapshots
    left join stored_snapshots
        on input_snapshots.snapshot_month = stored_snapshots.snapshot_month
    where
        stored_snapshots.snapshot_month is null
        or input_snapshots.customer_count <> stored_snapshots.customer_count
        or input_snapshots.purchase_count <> stored_snapshots.purchase_count
        or input_snapshots.monetary_total <> stored_snapshots.monetary_total

    union all

    -- the latest stored month is recomputed in any case: its reference date may have been the analysis date
    select max(snapshot_month) as snapshot_month
    from stored_snapshots

),

recompute_start as {{ cte_materialized() }} (

    select min(snapshot_month) as first_month
    from changed_months

),

snapshots_to_build as (

    select snapshot_dates.*
    from snapshot_dates
    inner join recompute_start
        on snapshot_dates.snapshot_month >= recompute_start.first_month

),
{%- else %}

snapshots_to_build as (

    select * from snapshot_dates

),
{%- endif %}

customer_states as {{ cte_inlined() }} (

    select
        snapshot_dates.snapshot_month,
        snapshot_dates.reference_date,
        customer_months.customer_unique_id,
        customer_months.purchase_month,
        customer_months.month_monetary,
        customer_months.frequency,
        customer_months.purchase_day_count,
        customer_months.monetary,
        customer_months.monetary_sum_sq,
        customer_months.first_purchase_date,
        customer_months.last_purchase_date,
        customer_months.first_xyz_period_start,
        customer_months.last_xyz_period_start,
        customer_months.last_xyz_period_spend,
        {{ segmentation_xyz_last_complete_period('snapshot_dates.reference_date') }} as last_complete_period_start
    from snapshots_to_build as snapshot_dates
    inner join customer_months
        on snapshot_dates.snapshot_month >= customer_months.purchase_month
        and snapshot_dates.snapshot_month < customer_months.valid_until_month

),

customer_metrics as {{ cte_inlined() }} (

    select
        snapshot_month,
        cast({{ dbt.dateadd('day', -1, 'reference_date') }} as date) as as_of_date,
        customer_unique_id,
        first_purchase_date >= snapshot_month as is_new_customer,
        {{ dbt.datediff('last_purchase_date', 'reference_date', 'day') }} as recency_days, -- noqa: LT05
        frequency,
        purchase_day_count as purchase_days,
        {{ churn_purchase_day_bucket('purchase_day_count') }} as purchase_day_bucket,
        monetary,
        case when purchase_month = snapshot_month then month_monetary else 0 end as month_monetary,
        -- XYZ window: first purchase period .. last complete period before the reference date; the latest
        -- period's spend leaves the sums while that period is incomplete (later periods have no purchase yet)
        {{ segmentation_xyz_window_periods('first_xyz_period_start', 'last_complete_period_start') }} as periods_in_window, -- noqa: LT05
        monetary - case
            when last_xyz_period_start > last_complete_period_start then last_xyz_period_spend else 0
        end as window_monetary,
        monetary_sum_sq - case
            when last_xyz_period_start > last_complete_period_start
                then last_xyz_period_spend * last_xyz_period_spend
            else 0
        end as window_monetary_sum_sq
    from customer_states

),

{{ segmentation_grouped_quantile_threshold_ctes(
    'recency_thresholds', 'customer_metrics', 'snapshot_month', 'recency_days', 'recency_cutoff'
) }},

{%- if segmentation_rfm_frequency_score_mode() == 'quantile' %}

{{ segmentation_grouped_quantile_threshold_ctes(
    'frequency_thresholds', 'customer_metrics', 'snapshot_month', 'frequency', 'frequency_cutoff'
) }},
{%- endif %}

{{ segmentation_grouped_quantile_threshold_ctes(
    'monetary_thresholds', 'customer_metrics', 'snapshot_month', 'monetary', 'monetary_cutoff'
) }},

{{ segmentation_grouped_quantile_threshold_ctes(
    'r_grid_thresholds', 'customer_metrics', 'snapshot_month', 'recency_days', 'r_grid_cutoff',
    bins=segmentation_rfm_grid_rows()
) }},

{{ segmentation_rfm_segment_cells_cte('rfm_segment_map') }},

scored as {{ cte_inlined() }} (

    select
        customer_metrics.*,
        {{ segmentation_quantile_score('customer_metrics.recency_days', 'recency_thresholds.recency_cutoff', reverse=true) }} as r_score, -- noqa: LT05
        {{ segmentation_frequency_score('customer_metrics.frequency', 'frequency_thresholds.frequency_cutoff') }} as f_score, -- noqa: LT05
        {{ segmentation_quantile_score('customer_metrics.monetary', 'monetary_thresholds.monetary_cutoff') }} as m_score, -- noqa: LT05
        {{ segmentation_quantile_score(
            'customer_metrics.recency_days', 'r_grid_thresholds.r_grid_cutoff', reverse=true,
            bins=segmentation_rfm_grid_rows()
        ) }} as r_grid
    from customer_metrics
    inner join recency_thresholds
        on customer_metrics.snapshot_month = recency_thresholds.snapshot_month
    {%- if segmentation_rfm_frequency_score_mode() == 'quantile' %}
    inner join frequency_thresholds
        on customer_metrics.snapshot_month = frequency_thresholds.snapshot_month
    {%- endif %}
    inner join monetary_thresholds
        on customer_metrics.snapshot_month = monetary_thresholds.snapshot_month
    inner join r_grid_thresholds
        on customer_metrics.snapshot_month = r_grid_thresholds.snapshot_month

),

weighted as {{ cte_inlined() }} (

    select
        scored.*,
        {{ segmentation_rfm_weighted('scored.r_score', 'scored.f_score', 'scored.m_score') }} as rfm_weighted
    from scored

),

{{ segmentation_grouped_rfm_tier_threshold_ctes('rfm_tier_thresholds', 'weighted', 'snapshot_month', 'rfm_weighted') }},

monetary_groups as (

    -- ABC ranks customers by monetary (desc, ties by customer_unique_id). Instead of a running sum over every
    -- customer-month (a window sorting ~90 M rows at 10 M orders), sum per distinct monetary value: every
    -- customer of a value group has the money of all larger values before them, plus that of the equal values
    -- ranked before them in the tie. monetary is a decimal, so these sums are exact and equal the running sum.
    select
        snapshot_month,
        monetary,
        count(*) as customer_count
    from customer_metrics
    group by
        snapshot_month,
        monetary

),

monetary_group_positions as (

    select
        snapshot_month,
        monetary,
        customer_count,
        coalesce(
            sum(monetary * customer_count) over (
                partition by snapshot_month
                order by monetary desc
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as group_monetary_before,
        sum(monetary * customer_count) over (partition by snapshot_month) as monetary_total
    from monetary_groups

),

monetary_group_classes as (

    -- the class of the first and of the last customer of the tie: where they differ the tie straddles an
    -- ABC threshold and each customer's place in it (by customer_unique_id) decides
    select
        monetary_group_positions.*,
        {{ segmentation_abc_class(segmentation_abc_share('group_monetary_before', 'monetary_total')) }} as first_abc_class, -- noqa: LT05
        {{ segmentation_abc_class(
            segmentation_abc_share('group_monetary_before + (customer_count - 1) * monetary', 'monetary_total')
        ) }} as last_abc_class
    from monetary_group_positions

),

straddling_tie_ranks as (

    select
        customer_metrics.snapshot_month,
        customer_metrics.customer_unique_id,
        row_number() over (
            partition by customer_metrics.snapshot_month, customer_metrics.monetary
            order by customer_metrics.customer_unique_id
        ) - 1 as tie_rank
    from customer_metrics
    inner join monetary_group_classes
        on customer_metrics.snapshot_month = monetary_group_classes.snapshot_month
        and customer_metrics.monetary = monetary_group_classes.monetary
    where monetary_group_classes.first_abc_class <> monetary_group_classes.last_abc_class

),

classified as (

    select
        weighted.*,
        {{ segmentation_rfm_tier('weighted.rfm_weighted') }} as rfm_tier,
        case
            when monetary_group_classes.first_abc_class = monetary_group_classes.last_abc_class
                then monetary_group_classes.first_abc_class
            else {{ segmentation_abc_class(segmentation_abc_share(
                'monetary_group_classes.group_monetary_before + straddling_tie_ranks.tie_rank * weighted.monetary',
                'monetary_group_classes.monetary_total'
            )) }}
        end as abc_class,
        {{ segmentation_xyz_class(
            segmentation_cv('weighted.periods_in_window', 'weighted.window_monetary', 'weighted.window_monetary_sum_sq'),
            'weighted.periods_in_window',
            'weighted.frequency'
        ) }} as xyz_class
    from weighted
    inner join rfm_tier_thresholds
        on weighted.snapshot_month = rfm_tier_thresholds.snapshot_month
    inner join monetary_group_classes
        on weighted.snapshot_month = monetary_group_classes.snapshot_month
        and weighted.monetary = monetary_group_classes.monetary
    left join straddling_tie_ranks
        on weighted.snapshot_month = straddling_tie_ranks.snapshot_month
        and weighted.customer_unique_id = straddling_tie_ranks.customer_unique_id

),

final as (

    select
        classified.snapshot_month,
        classified.as_of_date,
        classified.customer_unique_id,
        classified.is_new_customer,
        classified.recency_days,
        classified.frequency,
        classified.monetary,
        classified.month_monetary,
        classified.r_score,
        classified.f_score,
        classified.m_score,
        classified.rfm_weighted,
        classified.rfm_tier,
        classified.purchase_days,
        classified.recency_days - 1 as days_silent,
        1 - gap_survival.return_probability as churn_probability,
        {{ churn_risk_label('1 - gap_survival.return_probability') }} as churn_risk,
        classified.r_grid,
        rfm_segment_cells.rfm_segment,
        classified.abc_class,
        classified.xyz_class,
        segment_descriptions.segment
    from classified
    left join rfm_segment_cells
        on classified.r_grid = rfm_segment_cells.r_grid
        and {{ segmentation_rfm_purchases_capped('classified.frequency') }} = rfm_segment_cells.purchases_capped
    left join segment_descriptions
        on classified.abc_class = segment_descriptions.abc_class
        and classified.xyz_class = segment_descriptions.xyz_class
    left join bucket_pools
        on classified.snapshot_month = bucket_pools.snapshot_month
        and classified.purchase_day_bucket = bucket_pools.purchase_day_bucket
    left join gap_survival
        on bucket_pools.snapshot_month = gap_survival.snapshot_month
        and bucket_pools.churn_bucket = gap_survival.churn_bucket
        and classified.recency_days - 1 = gap_survival.gap_days

)

select * from final
