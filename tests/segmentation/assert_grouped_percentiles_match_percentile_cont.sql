-- segment_snapshots computes its per-month quantile thresholds with segmentation_grouped_percentile_ctes
-- (from the counts of distinct values) because percentile_cont runs out of memory on ~90 M customer-months.
-- Both must give the same numbers: here on customer_rfm, per rfm_tier (3 groups of different sizes, ties
-- in every metric), for the RFM quantile fractions and the rfm_tier percentiles. Any row is a mismatch.
-- "Same" is up to the last bits of the double: DuckDB rounds its interpolation lo + d * (hi - lo) differently
-- in about 1 case in 12 (e.g. 111.766 vs 111.76600000000002). That cannot move a score: a threshold between two
-- neighbouring values lo < hi sits (1 - d) * (hi - lo) below hi, far more than a rounding step, and no value lies
-- between lo and hi. assert_last_snapshot_matches_current_marts checks the scores themselves.
with

customers as (

    select * from {{ ref('customer_rfm') }}

),

{{ segmentation_grouped_quantile_threshold_ctes(
    'recency_by_values', 'customers', 'rfm_tier', 'recency_days', 'recency_cutoff'
) }},

{{ segmentation_grouped_quantile_threshold_ctes(
    'monetary_by_values', 'customers', 'rfm_tier', 'monetary', 'monetary_cutoff'
) }},

{{ segmentation_grouped_rfm_tier_threshold_ctes('frequency_by_values', 'customers', 'rfm_tier', 'frequency') }},

by_percentile_cont as (

    select
        rfm_tier,
        {{ segmentation_quantile_thresholds('recency_days', 'recency_cutoff') }},
        {{ segmentation_quantile_thresholds('monetary', 'monetary_cutoff') }},
        {{ segmentation_rfm_tier_thresholds('frequency') }}
    from customers
    group by rfm_tier

),

compared as (

    select
        by_percentile_cont.rfm_tier,
        {%- for k in range(1, segmentation_rfm_bins()) %}
        (
            abs(by_percentile_cont.recency_cutoff_{{ k }} - recency_by_values.recency_cutoff_{{ k }})
            <= 1e-12 * (1 + abs(by_percentile_cont.recency_cutoff_{{ k }}))
            and abs(by_percentile_cont.monetary_cutoff_{{ k }} - monetary_by_values.monetary_cutoff_{{ k }})
            <= 1e-12 * (1 + abs(by_percentile_cont.monetary_cutoff_{{ k }}))
        ) as cutoff_{{ k }}_matches,
        {%- endfor %}
        (
            abs(by_percentile_cont.rfm_tier_cutoff_high - frequency_by_values.rfm_tier_cutoff_high)
            <= 1e-12 * (1 + abs(by_percentile_cont.rfm_tier_cutoff_high))
            and abs(by_percentile_cont.rfm_tier_cutoff_low - frequency_by_values.rfm_tier_cutoff_low)
            <= 1e-12 * (1 + abs(by_percentile_cont.rfm_tier_cutoff_low))
        ) as rfm_tier_cutoffs_match
    from by_percentile_cont
    left join recency_by_values
        on by_percentile_cont.rfm_tier = recency_by_values.rfm_tier
    left join monetary_by_values
        on by_percentile_cont.rfm_tier = monetary_by_values.rfm_tier
    left join frequency_by_values
        on by_percentile_cont.rfm_tier = frequency_by_values.rfm_tier

)

select *
from compared
where
    not (
        coalesce(rfm_tier_cutoffs_match, false)
        {%- for k in range(1, segmentation_rfm_bins()) %}
        and coalesce(cutoff_{{ k }}_matches, false)
        {%- endfor %}
    )
