-- segment_snapshots computes its per-month quantile thresholds with segmentation_grouped_percentile_ctes
-- (from the counts of distinct values) because percentile_cont runs out of memory on ~90 M customer-months.
-- Both must give the same numbers: here on customer_rfm, per churn risk (3 groups of different sizes, ties
-- in every metric), for the RFM quantile fractions and the churn-risk percentiles. Any row is a mismatch.
-- "Same" is up to the last bits of the double: DuckDB rounds its interpolation lo + d * (hi - lo) differently
-- in about 1 case in 12 (e.g. 111.766 vs 111.76600000000002). That cannot move a score: a threshold between two
-- neighbouring values lo < hi sits (1 - d) * (hi - lo) below hi, far more than a rounding step, and no value lies
-- between lo and hi. assert_last_snapshot_matches_current_marts checks the scores themselves.
with

customers as (

    select * from {{ ref('customer_rfm') }}

),

{{ segmentation_grouped_quantile_threshold_ctes('recency_by_values', 'customers', 'churn_risk', 'recency_days', 'recency_cutoff') }},

{{ segmentation_grouped_quantile_threshold_ctes('monetary_by_values', 'customers', 'churn_risk', 'monetary', 'monetary_cutoff') }},

{{ segmentation_grouped_churn_threshold_ctes('frequency_by_values', 'customers', 'churn_risk', 'frequency') }},

by_percentile_cont as (

    select
        churn_risk,
        {{ segmentation_quantile_thresholds('recency_days', 'recency_cutoff') }},
        {{ segmentation_quantile_thresholds('monetary', 'monetary_cutoff') }},
        {{ segmentation_churn_thresholds('frequency') }}
    from customers
    group by churn_risk

),

compared as (

    select
        by_percentile_cont.churn_risk,
        {%- for k in range(1, segmentation_rfm_bins()) %}
        abs(by_percentile_cont.recency_cutoff_{{ k }} - recency_by_values.recency_cutoff_{{ k }})
            <= 1e-12 * (1 + abs(by_percentile_cont.recency_cutoff_{{ k }}))
            and abs(by_percentile_cont.monetary_cutoff_{{ k }} - monetary_by_values.monetary_cutoff_{{ k }})
            <= 1e-12 * (1 + abs(by_percentile_cont.monetary_cutoff_{{ k }}))
            as cutoff_{{ k }}_matches,
        {%- endfor %}
        abs(by_percentile_cont.churn_cutoff_high_risk - frequency_by_values.churn_cutoff_high_risk)
            <= 1e-12 * (1 + abs(by_percentile_cont.churn_cutoff_high_risk))
            and abs(by_percentile_cont.churn_cutoff_low_risk - frequency_by_values.churn_cutoff_low_risk)
            <= 1e-12 * (1 + abs(by_percentile_cont.churn_cutoff_low_risk))
            as churn_cutoffs_match
    from by_percentile_cont
    left join recency_by_values
        on by_percentile_cont.churn_risk = recency_by_values.churn_risk
    left join monetary_by_values
        on by_percentile_cont.churn_risk = monetary_by_values.churn_risk
    left join frequency_by_values
        on by_percentile_cont.churn_risk = frequency_by_values.churn_risk

)

select *
from compared
where not (
    coalesce(churn_cutoffs_match, false)
    {%- for k in range(1, segmentation_rfm_bins()) %}
    and coalesce(cutoff_{{ k }}_matches, false)
    {%- endfor %}
)
