-- H10 · Most orders are placed on certain weekdays. Grain: purchase order.
-- Share of purchases on the busiest weekday minus the quietest: two cells of one multinomial sample, Bonferroni
-- over the k(k-1)/2 weekday pairs; Cohen's h of the two shares.

with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

weekday_purchases as (

    select
        {{ iso_day_name('purchase_iso_weekday') }} as group_label,
        count(*) as n_units
    from orders
    group by {{ iso_day_name('purchase_iso_weekday') }}

),

ranked_weekdays as (

    select
        weekday_purchases.*,
        row_number() over (order by n_units desc, group_label asc) as rank_high,
        row_number() over (order by n_units asc, group_label asc) as rank_low,
        count(*) over () as group_count,
        sum(n_units) over () as n
    from weekday_purchases

),

pair as (

    select
        max(case when rank_high = 1 then group_label end) as group_a,
        coalesce(max(case when rank_high = 1 then n_units end), 0) as n_a,
        max(case when rank_high = 1 then cast(n_units as {{ type_double() }}) / n end) as value_a,
        max(case when rank_low = 1 then group_label end) as group_b,
        coalesce(max(case when rank_low = 1 then n_units end), 0) as n_b,
        max(case when rank_low = 1 then cast(n_units as {{ type_double() }}) / n end) as value_b,
        coalesce(max(n), 0) as n,
        coalesce(max(case when rank_high = 1 then n_units end), 0) as only_a,
        coalesce(max(case when rank_low = 1 then n_units end), 0) as only_b,
        coalesce(max(group_count) * (max(group_count) - 1) / 2, 0) as comparisons,
        case
            when coalesce(max(group_count), 0) < 2 then 'purchases on fewer than 2 weekdays'
            when max(case when rank_low = 1 then n_units end) < {{ var('hypothesis_min_group_size') }}
                then 'the quietest weekday has fewer than hypothesis_min_group_size ({{ var('hypothesis_min_group_size') }}) purchases' -- noqa: LT05
        end as insufficient_reason
    from ranked_weekdays

),

{{ multinomial_difference_ctes() }},

{{ result_cte('max minus min group share', 'any', 'cohens_h', hypothesis_verdict_rule('cohens_h', 'any', ' (Bonferroni over the k(k-1)/2 weekday pairs)')) }}, -- noqa: LT05

final as (

    select
        {{ hypothesis_header('H10', 'order', 'share of purchases on the busiest weekday minus the quietest weekday') }},
        compared.*
    from compared

)

select * from final
