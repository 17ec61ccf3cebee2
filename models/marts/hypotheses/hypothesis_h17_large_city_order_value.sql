-- H17 · People in large cities buy more expensive orders.
-- Grain: purchase order, city of the order address; total paid. Difference in means (Welch), Cohen's d.

with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

units as (

    select
        case when is_large_city then '{{ large_city_label() }}' else 'other city' end as group_label,
        payment_value as value
    from orders

),

{{ group_stats_cte() }},

{{ named_pair_cte(large_city_label(), 'other city') }},

{{ welch_ctes() }},

{{ result_cte('difference in means', 'positive', 'cohens_d', hypothesis_verdict_rule('cohens_d', 'positive')) }},

final as (

    select
        {{ hypothesis_header('H17', 'order', 'mean amount paid per purchase, large city minus other cities (city of the order address)') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
