-- H12 · Customers buying cheaper items make more repeat purchases than those buying expensive items.
-- Grain: purchasing customer with a complete repeat horizon and items in the first purchase. Price class from
-- the mean item price of the first purchase (cheap: at or below the var hypothesis_cheap_price_quantile
-- quantile of these customers); buying again within var repeat_horizon_days (is_repeat_purchase).
-- Difference in proportions, Newcombe's hybrid score interval, pooled z test, Cohen's h.
-- Detail rows of the model hypothesis_h12_cheap_buyers_repeat_more; its result row, the Holm-adjusted p-value and the
-- verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H12'

with

result as (

    select * from {{ ref('hypothesis_h12_cheap_buyers_repeat_more') }}

),

customers as (

    select * from {{ ref('int_hypotheses__customers') }}

),

priced as (

    select * from customers
    where first_purchase_mean_item_price is not null
        and has_complete_horizon

),

price_cut as (

    select
        percentile_cont({{ var('hypothesis_cheap_price_quantile') }}) within group (
            order by first_purchase_mean_item_price
        ) as cheap_max_price
    from priced

),

units as (

    select
        case
            when priced.first_purchase_mean_item_price <= price_cut.cheap_max_price then 'cheap'
            else 'expensive'
        end as group_label,
        case when priced.repeated_within_horizon then 1 else 0 end as value
    from priced
    cross join price_cut

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
