-- H01 · Customers in large cities (var hypothesis_large_cities) make more purchases per person.
-- Grain: purchasing customer, city of the latest order. Difference in means (Welch), effect Cohen's d.

with

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

{{ named_pair_cte(large_city_label(), 'other city') }},

{{ welch_ctes() }},

{{ result_cte('difference in means', 'positive', 'cohens_d', hypothesis_verdict_rule('cohens_d', 'positive')) }},

final as (

    select
        {{ hypothesis_header('H01', 'customer', 'mean purchases per purchasing customer, large city minus other cities (city of the latest order)') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
