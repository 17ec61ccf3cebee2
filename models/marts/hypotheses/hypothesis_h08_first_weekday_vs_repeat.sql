-- H08 · Customers who buy on certain weekdays buy again more often.
-- Grain: purchasing customer with a complete repeat horizon. Weekday of the first purchase vs buying again
-- within var repeat_horizon_days (is_repeat_purchase). Highest minus lowest weekday proportion among weekdays
-- with at least var hypothesis_min_group_size customers: Newcombe interval and pooled z test, both
-- Bonferroni-adjusted over the k(k-1)/2 pairs; Cohen's h.

with

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

units as (

    select
        {{ iso_day_name('first_purchase_iso_weekday') }} as group_label,
        case when repeated_within_horizon then 1 else 0 end as value
    from customers
    where has_complete_horizon

),

{{ group_stats_cte() }},

{{ extreme_pair_ctes() }},

{{ newcombe_ctes() }},

{{ result_cte('max minus min group proportion', 'any', 'cohens_h', hypothesis_verdict_rule('cohens_h', 'any', ' (Bonferroni over the k(k-1)/2 group pairs)')) }}, -- noqa: LT05

final as (

    select
        {{ hypothesis_header('H08', 'customer', 'share buying again within ' ~ var('repeat_horizon_days') ~ ' days by weekday of the first purchase (customers with the whole horizon observed): highest minus lowest weekday') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
