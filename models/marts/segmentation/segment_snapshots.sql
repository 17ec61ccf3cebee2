-- Every customer who had bought by each month end, with RFM, churn risk and ABC-XYZ segment computed
-- as of that date: thresholds, ranks and shares are recomputed within each snapshot. Built in one
-- set-based pass: a month spine range-joined to per-customer running totals (int_segmentation__customer_months).
-- Size: (customers who had bought by then) summed over months, i.e. at most customers x months.
-- The last snapshot (reference date = analysis_date) reproduces customer_rfm and customer_abc_xyz.

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

bounds as (

    select
        min(purchase_month) as first_month,
        cast({{ dbt.date_trunc('month', dbt.dateadd('day', -1, 'max(analysis_date)')) }} as date) as last_month,
        max(analysis_date) as analysis_date
    from customer_months

),

month_offsets as (

    -- 0 .. var snapshot_max_months - 1 (a test fails if the data span more months than the spine)
    select generated_number - 1 as month_offset
    from ({{ dbt.generate_series(var('snapshot_max_months') | int) }}) as series

),

snapshot_months as (

    select
        cast({{ dbt.dateadd('month', 'month_offsets.month_offset', 'bounds.first_month') }} as date) as snapshot_month,
        bounds.analysis_date
    from bounds
    cross join month_offsets
    where month_offsets.month_offset <= {{ dbt.datediff('bounds.first_month', 'bounds.last_month', 'month') }}

),

snapshot_dates as (

    -- purchases up to the month end count; the last, partial month stops at the analysis date
    select
        snapshot_month,
        least(
            cast({{ dbt.dateadd('month', 1, 'snapshot_month') }} as date),
            analysis_date
        ) as reference_date
    from snapshot_months

),

customer_states as (

    select
        snapshot_dates.snapshot_month,
        snapshot_dates.reference_date,
        customer_months.customer_unique_id,
        customer_months.purchase_month,
        customer_months.month_monetary,
        customer_months.frequency,
        customer_months.monetary,
        customer_months.monetary_sum_sq,
        customer_months.first_purchase_date,
        customer_months.last_purchase_date,
        customer_months.first_xyz_period_start,
        customer_months.last_xyz_period_start
    from snapshot_dates
    inner join customer_months
        on customer_months.purchase_month <= snapshot_dates.snapshot_month
        and customer_months.valid_until_month > snapshot_dates.snapshot_month

),

customer_metrics as (

    select
        snapshot_month,
        cast({{ dbt.dateadd('day', -1, 'reference_date') }} as date) as as_of_date,
        customer_unique_id,
        first_purchase_date >= snapshot_month as is_new_customer,
        {{ dbt.datediff('last_purchase_date', 'reference_date', 'day') }} as recency_days,
        frequency,
        monetary,
        case when purchase_month = snapshot_month then month_monetary else 0 end as month_monetary,
        monetary_sum_sq,
        {{ dbt.datediff('first_xyz_period_start', 'last_xyz_period_start', var('xyz_period')) }} + 1 as periods_in_span
    from customer_states

),

score_thresholds as (

    select
        snapshot_month,
        {{ segmentation_quantile_thresholds('recency_days', 'recency_cutoff') }},
        {{ segmentation_quantile_thresholds('frequency', 'frequency_cutoff') }},
        {{ segmentation_quantile_thresholds('monetary', 'monetary_cutoff') }}
    from customer_metrics
    group by snapshot_month

),

scored as (

    select
        customer_metrics.*,
        {{ segmentation_quantile_score('customer_metrics.recency_days', 'score_thresholds.recency_cutoff', reverse=true) }} as r_score,
        {{ segmentation_quantile_score('customer_metrics.frequency', 'score_thresholds.frequency_cutoff') }} as f_score,
        {{ segmentation_quantile_score('customer_metrics.monetary', 'score_thresholds.monetary_cutoff') }} as m_score
    from customer_metrics
    inner join score_thresholds
        on customer_metrics.snapshot_month = score_thresholds.snapshot_month

),

weighted as (

    select
        scored.*,
        {{ segmentation_rfm_weighted('scored.r_score', 'scored.f_score', 'scored.m_score') }} as rfm_weighted
    from scored

),

churn_thresholds as (

    select
        snapshot_month,
        {{ segmentation_churn_thresholds('rfm_weighted') }}
    from weighted
    group by snapshot_month

),

abc_ranked as (

    select
        weighted.*,
        {{ segmentation_churn_risk('weighted.rfm_weighted') }} as churn_risk,
        coalesce(
            sum(weighted.monetary) over (
                partition by weighted.snapshot_month
                order by weighted.monetary desc, weighted.customer_unique_id
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as monetary_before,
        sum(weighted.monetary) over (partition by weighted.snapshot_month) as monetary_total
    from weighted
    inner join churn_thresholds
        on weighted.snapshot_month = churn_thresholds.snapshot_month

),

shares as (

    select
        abc_ranked.*,
        cast(
            case when monetary_total > 0 then monetary_before / monetary_total else 0 end
            as {{ type_double() }}
        ) as share_before,
        {{ segmentation_cv('periods_in_span', 'monetary', 'monetary_sum_sq') }} as cv
    from abc_ranked

),

classified as (

    select
        shares.*,
        {{ segmentation_abc_class('shares.share_before') }} as abc_class,
        {{ segmentation_xyz_class('shares.cv', 'shares.periods_in_span') }} as xyz_class
    from shares

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
        classified.churn_risk,
        rfm_segment_map.rfm_segment,
        classified.abc_class,
        classified.xyz_class,
        segment_descriptions.segment
    from classified
    left join rfm_segment_map
        on {{ segmentation_rfm_grid_r('classified.r_score') }} = rfm_segment_map.r_grid
        and {{ segmentation_rfm_grid_fm('classified.f_score', 'classified.m_score') }} = rfm_segment_map.fm_grid
    left join segment_descriptions
        on classified.abc_class = segment_descriptions.abc_class
        and classified.xyz_class = segment_descriptions.xyz_class

)

select * from final
