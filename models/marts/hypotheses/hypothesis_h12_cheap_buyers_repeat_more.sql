-- H12 · Customers buying cheaper items make more repeat purchases than those buying expensive items.
-- Grain: purchasing customer with a complete repeat horizon and items in the first purchase. Price class from
-- the mean item price of the first purchase (cheap: at or below the var hypothesis_cheap_price_quantile
-- quantile of these customers); buying again within var repeat_horizon_days (is_repeat_purchase).
-- Difference in proportions, Newcombe's hybrid score interval, pooled z test, Cohen's h.

with

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

{{ named_pair_cte('cheap', 'expensive') }},

{{ newcombe_ctes() }},

{{ result_cte('difference in proportions', 'positive', 'cohens_h', hypothesis_verdict_rule('cohens_h', 'positive')) }},

final as (

    select
        {{ hypothesis_header('H12', 'customer', 'share buying again within ' ~ var('repeat_horizon_days') ~ ' days, customers whose first purchase had a mean item price at or below the quantile ' ~ var('hypothesis_cheap_price_quantile') ~ ' (cheap) minus the others (expensive); whole horizon observed') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
