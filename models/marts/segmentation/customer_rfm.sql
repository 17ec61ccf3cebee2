with

purchases as (

    select * from {{ ref('int_segmentation__purchases') }}

),

rfm_segment_map as (

    select * from {{ ref('rfm_segments') }}

),

customer_metrics as (

    select
        customer_unique_id,
        max(analysis_date) as analysis_date,
        {{ dbt.datediff('max(purchase_date)', 'max(analysis_date)', 'day') }} as recency_days, -- noqa: LT05
        count(*) as frequency,
        sum(payment_value) as monetary
    from purchases
    group by customer_unique_id

),

score_thresholds as (

    -- quantile cut-offs of each metric over all customers (var rfm_bins; frequency only when var
    -- rfm_frequency_score is quantile), and the recency quintiles of the segment grid's rows
    select
        {{ segmentation_quantile_thresholds('recency_days', 'recency_cutoff') }},
        {%- if segmentation_rfm_frequency_score_mode() == 'quantile' %}
        {{ segmentation_quantile_thresholds('frequency', 'frequency_cutoff') }},
        {%- endif %}
        {{ segmentation_quantile_thresholds('monetary', 'monetary_cutoff') }},
        {{ segmentation_quantile_thresholds('recency_days', 'r_grid_cutoff', bins=segmentation_rfm_grid_rows()) }}
    from customer_metrics

),

{{ segmentation_rfm_segment_cells_cte('rfm_segment_map') }},

scored as (

    select
        customer_metrics.customer_unique_id,
        customer_metrics.analysis_date,
        customer_metrics.recency_days,
        customer_metrics.frequency,
        customer_metrics.monetary,
        {{ segmentation_quantile_score('customer_metrics.recency_days', 'score_thresholds.recency_cutoff', reverse=true) }} as r_score, -- noqa: LT05
        {{ segmentation_frequency_score('customer_metrics.frequency', 'score_thresholds.frequency_cutoff') }} as f_score, -- noqa: LT05
        {{ segmentation_quantile_score('customer_metrics.monetary', 'score_thresholds.monetary_cutoff') }} as m_score,
        {{ segmentation_quantile_score(
            'customer_metrics.recency_days', 'score_thresholds.r_grid_cutoff', reverse=true, bins=segmentation_rfm_grid_rows()
        ) }} as r_grid
    from customer_metrics
    cross join score_thresholds

),

weighted as (

    select
        scored.*,
        {{ segmentation_rfm_weighted('scored.r_score', 'scored.f_score', 'scored.m_score') }} as rfm_weighted
    from scored

),

rfm_tier_thresholds as (

    select
        {{ segmentation_rfm_tier_thresholds('rfm_weighted') }}
    from weighted

),

final as (

    select
        weighted.customer_unique_id,
        weighted.analysis_date,
        weighted.recency_days,
        weighted.frequency,
        weighted.monetary,
        weighted.r_score,
        weighted.f_score,
        weighted.m_score,
        weighted.rfm_weighted,
        {{ segmentation_rfm_tier('weighted.rfm_weighted') }} as rfm_tier,
        weighted.r_grid,
        rfm_segment_cells.rfm_segment
    from weighted
    cross join rfm_tier_thresholds
    left join rfm_segment_cells
        on weighted.r_grid = rfm_segment_cells.r_grid
        and {{ segmentation_rfm_purchases_capped('weighted.frequency') }} = rfm_segment_cells.purchases_capped

)

select * from final
