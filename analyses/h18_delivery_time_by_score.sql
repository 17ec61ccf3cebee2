-- H18 · The longer the delivery, the lower the score.
-- Grain: delivered purchase order with a review of 1 or 5. Mean delivery days of orders scored 1 minus orders
-- scored 5 (Welch), Cohen's d.
-- Detail rows of the model hypothesis_h18_delivery_time_by_score; its result row, the Holm-adjusted p-value and the
-- verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H18'

with

result as (

    select * from {{ ref('hypothesis_h18_delivery_time_by_score') }}

),

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
