-- H18 · The longer the delivery, the lower the score.
-- Grain: delivered purchase order with a review of 1 or 5. Mean delivery days of orders scored 1 minus orders
-- scored 5 (Welch), Cohen's d.

with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        {{ dbt.concat(["'score '", "cast(review_score as " ~ dbt.type_string() ~ ")"]) }} as group_label,
        delivery_days as value
    from orders
    where has_review
        and delivery_days is not null

),

{{ group_stats_cte() }},

{{ named_pair_cte('score 1', 'score 5') }},

{{ welch_ctes() }},

{{ result_cte('difference in means', 'positive', 'cohens_d', hypothesis_verdict_rule('cohens_d', 'positive')) }},

final as (

    select
        {{ hypothesis_header('H18', 'order', 'mean delivery days of orders scored 1 minus orders scored 5') }},
        compared.*
    from compared

)

select * from final
