-- H04 · Customers using certain payment types place larger orders.
-- Grain: purchase order, type of its largest payment. Highest minus lowest group mean among types with at
-- least var hypothesis_min_group_size orders (Welch, Bonferroni over the k(k-1)/2 pairs), Cohen's d.
-- Detail rows of the model hypothesis_h04_payment_type_vs_order_value; its result row, the Holm-adjusted p-value and
-- the verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H04'

with

result as (

    select * from {{ ref('hypothesis_h04_payment_type_vs_order_value') }}

),

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
