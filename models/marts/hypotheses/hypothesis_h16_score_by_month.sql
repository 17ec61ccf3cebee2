-- H16 · Mean review scores vary by month and season.
-- Grain: purchase order with a review, purchased in a complete calendar year of the data (1 January to
-- 31 December between the first and the last purchase date). Partial years (Olist: 2016 from September, 2018
-- to August) would make a month's mean the mean of the years that happen to contain it, i.e. confound month
-- with year. Highest minus lowest month mean among months with at least var hypothesis_min_group_size orders
-- (Welch, Bonferroni over the k(k-1)/2 pairs), Cohen's d.

with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

data_range as (

    select
        min(purchase_date) as first_day,
        max(purchase_date) as last_day
    from orders

),

dated_orders as (

    select
        orders.*,
        cast({{ dbt.date_trunc('year', 'orders.purchase_date') }} as date) as year_start
    from orders

),

complete_year_orders as (

    select dated_orders.*
    from dated_orders
    cross join data_range
    where dated_orders.year_start >= data_range.first_day
        and cast({{ dbt.dateadd('day', -1, dbt.dateadd('year', 1, 'dated_orders.year_start')) }} as date) <= data_range.last_day -- noqa: LT05

),

units as (

    select
        {{ month_name('purchase_month') }} as group_label,
        review_score as value
    from complete_year_orders
    where has_review

),

{{ group_stats_cte() }},

{{ extreme_pair_ctes() }},

{{ welch_ctes() }},

{{ result_cte('max minus min group mean', 'any', 'cohens_d', hypothesis_verdict_rule('cohens_d', 'any', ' (Bonferroni over the k(k-1)/2 group pairs)')) }}, -- noqa: LT05

final as (

    select
        {{ hypothesis_header('H16', 'order', 'mean review score by calendar month of purchase within complete calendar years: highest minus lowest month') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
