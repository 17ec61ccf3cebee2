-- H04 · Customers using certain payment types place larger orders.
-- Grain: purchase order, type of its largest payment. Highest minus lowest group mean among types with at
-- least var hypothesis_min_group_size orders (Welch, Bonferroni over the k(k-1)/2 pairs), Cohen's d.

with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        main_payment_type as group_label,
        payment_value as value
    from orders
    where main_payment_type is not null

),

{{ group_stats_cte() }},

{{ extreme_pair_ctes() }},

{{ welch_ctes() }},

{{ result_cte('max minus min group mean', 'any', 'cohens_d', hypothesis_verdict_rule('cohens_d', 'any', ' (Bonferroni over the k(k-1)/2 group pairs)')) }}, -- noqa: LT05

final as (

    select
        {{ hypothesis_header('H04', 'order', 'mean amount paid per order by the type of its largest payment: highest minus lowest type') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
