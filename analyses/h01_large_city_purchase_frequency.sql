-- H01 · Customers in large cities (var hypothesis_large_cities) make more purchases per person.
-- Grain: purchasing customer, city of the latest order. Difference in means (Welch), effect Cohen's d.
-- Detail rows of the model hypothesis_h01_large_city_purchase_frequency; its result row, the Holm-adjusted p-value and
-- the verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H01'

with

result as (

    select * from {{ ref('hypothesis_h01_large_city_purchase_frequency') }}

),

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

units as (

    select
        case when is_large_city then '{{ large_city_label() }}' else 'other city' end as group_label,
        purchase_count as value
    from customers

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
