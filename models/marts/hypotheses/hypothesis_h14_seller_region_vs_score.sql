-- H14 · Sellers from different regions get different scores.
-- Grain: single-seller purchase order with a review, so that the score belongs to one seller's macro-region.
-- Highest minus lowest region mean among regions with at least var hypothesis_min_group_size orders (Welch,
-- Bonferroni over the k(k-1)/2 pairs), Cohen's d.

with

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

{{ extreme_pair_ctes() }},

{{ welch_ctes() }},

{{ result_cte('max minus min group mean', 'any', 'cohens_d', hypothesis_verdict_rule('cohens_d', 'any', ' (Bonferroni over the k(k-1)/2 group pairs)')) }}, -- noqa: LT05

final as (

    select
        {{ hypothesis_header('H14', 'order', 'mean review score by macro-region of the seller (single-seller orders): highest minus lowest region') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
