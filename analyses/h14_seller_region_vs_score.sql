-- H14 · Sellers from different regions get different scores.
-- Grain: single-seller purchase order with a review, so that the score belongs to one seller's macro-region.
-- Highest minus lowest region mean among regions with at least var hypothesis_min_group_size orders (Welch,
-- Bonferroni over the k(k-1)/2 pairs), Cohen's d.
-- Detail rows of the model hypothesis_h14_seller_region_vs_score; its result row, the Holm-adjusted p-value and the
-- verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H14'

with

result as (

    select * from {{ ref('hypothesis_h14_seller_region_vs_score') }}

),

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        main_seller_region as group_label,
        review_score as value
    from orders
    where has_review
        and distinct_sellers = 1

),

{{ group_stats_cte() }},

final as (

    select
        group_stats.group_label,
        group_stats.n_units,
        group_stats.mean_value,
        sqrt(group_stats.var_value) as sd_value,
        group_stats.n_units >= {{ var('hypothesis_min_group_size') }} as is_tested,
        coalesce(group_stats.group_label in (result.group_a, result.group_b), false) as is_compared
    from group_stats
    cross join result

)

select * from final
order by group_label
