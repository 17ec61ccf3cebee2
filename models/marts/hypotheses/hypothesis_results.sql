-- One row per hypothesis of seeds/hypothesis_catalog.csv: the union of the 18 hypothesis models (one result row
-- each, built from its own ref()s), then what needs all of them at once: Holm's step-down adjustment of the
-- p-values across every hypothesis with a p-value (p_value_adjusted), and the verdict, which needs both an
-- adjusted p-value below var hypothesis_alpha and an effect at least var hypothesis_min_effect_size (in the
-- expected direction). verdict_reason says which condition decided.
{%- set alpha = var('hypothesis_alpha') %}

with

catalog as (

    select * from {{ ref('hypothesis_catalog') }}

),

h01_result as (

    select * from {{ ref('hypothesis_h01_large_city_purchase_frequency') }}

),

h02_result as (

    select * from {{ ref('hypothesis_h02_photos_vs_orders') }}

),

h03_result as (

    select * from {{ ref('hypothesis_h03_reviewers_are_loyal') }}

),

h04_result as (

    select * from {{ ref('hypothesis_h04_payment_type_vs_order_value') }}

),

h05_result as (

    select * from {{ ref('hypothesis_h05_description_length_vs_orders') }}

),

h06_result as (

    select * from {{ ref('hypothesis_h06_seasonal_purchases') }}

),

h07_result as (

    select * from {{ ref('hypothesis_h07_delivery_time_vs_review_score') }}

),

h08_result as (

    select * from {{ ref('hypothesis_h08_first_weekday_vs_repeat') }}

),

h09_result as (

    select * from {{ ref('hypothesis_h09_orders_by_hour') }}

),

h10_result as (

    select * from {{ ref('hypothesis_h10_orders_by_weekday') }}

),

h11_result as (

    select * from {{ ref('hypothesis_h11_delivery_speed_vs_repeat') }}

),

h12_result as (

    select * from {{ ref('hypothesis_h12_cheap_buyers_repeat_more') }}

),

h13_result as (

    select * from {{ ref('hypothesis_h13_frequent_buyers_review_more') }}

),

h14_result as (

    select * from {{ ref('hypothesis_h14_seller_region_vs_score') }}

),

h15_result as (

    select * from {{ ref('hypothesis_h15_items_per_order_vs_score') }}

),

h16_result as (

    select * from {{ ref('hypothesis_h16_score_by_month') }}

),

h17_result as (

    select * from {{ ref('hypothesis_h17_large_city_order_value') }}

),

h18_result as (

    select * from {{ ref('hypothesis_h18_delivery_time_by_score') }}

),

results as (

    select * from h01_result

    union all

    select * from h02_result

    union all

    select * from h03_result

    union all

    select * from h04_result

    union all

    select * from h05_result

    union all

    select * from h06_result

    union all

    select * from h07_result

    union all

    select * from h08_result

    union all

    select * from h09_result

    union all

    select * from h10_result

    union all

    select * from h11_result

    union all

    select * from h12_result

    union all

    select * from h13_result

    union all

    select * from h14_result

    union all

    select * from h15_result

    union all

    select * from h16_result

    union all

    select * from h17_result

    union all

    select * from h18_result

),

ranked as (

    -- Holm: the i-th smallest of m p-values is multiplied by m - i + 1, then made monotone
    select
        hypothesis_id,
        p_value,
        row_number() over (order by p_value, hypothesis_id) as p_rank,
        count(*) over () as tested_count
    from results
    where p_value is not null

),

holm_steps as (

    select
        hypothesis_id,
        p_rank,
        (tested_count - p_rank + 1) * p_value as holm_step
    from ranked

),

holm as (

    select
        hypothesis_id,
        max(holm_step) over (order by p_rank rows between unbounded preceding and current row) as running_max
    from holm_steps

),

adjusted as (

    select
        results.*,
        case when holm.running_max > 1 then 1.0 else holm.running_max end as p_value_adjusted
    from results
    left join holm
        on results.hypothesis_id = holm.hypothesis_id

),

decided as (

    select
        adjusted.*,
        case
            when n = 0 then 'no data'
            when p_value is null or effect_size is null then 'insufficient data'
            when expected_direction = 'positive' and not estimate > 0 then 'wrong direction'
            when expected_direction = 'negative' and not estimate < 0 then 'wrong direction'
            when p_value_adjusted >= {{ alpha }} then 'not significant'
            when abs(effect_size) < min_effect_size then 'effect too small'
            else 'supported'
        end as decision
    from adjusted

),

worded as (

    select
        decided.*,
        case
            when decision in ('no data', 'insufficient data', 'supported') then decision else 'not supported'
        end as verdict,
        case
            when p_value_adjusted < 0.000001 then '< 0.000001'
            else {{ rounded_text('p_value_adjusted', 6) }}
        end as p_text,
        {{ rounded_text('abs(effect_size)', 4) }} as effect_text
    from decided

),

final as (

    select
        catalog.hypothesis_id,
        catalog.short_name,
        catalog.statement,
        catalog.requires,
        worded.grain,
        worded.metric,
        worded.method,
        worded.expected_direction,
        worded.group_a,
        worded.value_a,
        worded.n_a,
        worded.group_b,
        worded.value_b,
        worded.n_b,
        worded.estimate,
        worded.std_error,
        worded.z_critical,
        worded.comparisons,
        worded.ci_low,
        worded.ci_high,
        worded.n,
        worded.z_statistic,
        worded.p_value,
        worded.p_value_adjusted,
        worded.effect_size,
        worded.effect_size_measure,
        worded.min_effect_size,
        worded.verdict,
        case worded.decision
            when 'no data' then 'no unit has the data the hypothesis needs'
            when 'insufficient data' then coalesce(worded.insufficient_reason, 'the test statistic cannot be computed')
            when 'wrong direction'
                then 'the estimate ' || {{ rounded_text('worded.estimate', 6) }}
                    || ' is not ' || worded.expected_direction || ' as the hypothesis predicts'
            when 'not significant' then 'Holm-adjusted p-value ' || worded.p_text || ' is not below {{ alpha }}'
            when 'effect too small'
                then 'Holm-adjusted p-value ' || worded.p_text || ' is below {{ alpha }}, but |'
                    || worded.effect_size_measure || '| = ' || worded.effect_text || ' is below the minimum effect '
                    || cast(worded.min_effect_size as {{ dbt.type_string() }})
            else 'Holm-adjusted p-value ' || worded.p_text || ' is below {{ alpha }}, |' || worded.effect_size_measure
                || '| = ' || worded.effect_text || ' is at least '
                || cast(worded.min_effect_size as {{ dbt.type_string() }})
                || ', in the expected direction'
        end as verdict_reason,
        worded.verdict_rule,
        catalog.seed_result,
        catalog.seed_verdict,
        catalog.seed_grain_note,
        case
            when coalesce(worded.n, 0) > 0 then null
            {%- if input_format() == 'transactions' %}
            when catalog.olist_only_data is not null
                then 'the transactions layout has no ' || catalog.olist_only_data
            {%- endif %}
            when catalog.requires = 'reviews' then 'the reviews table is empty'
            when catalog.requires = 'season_window'
                then 'no sales season (var hypothesis_season_months) with as many months before and after it in the data' -- noqa: LT05
            when catalog.olist_only_data is not null then 'the data hold no ' || catalog.olist_only_data
            else 'no purchases qualify'
        end as no_data_reason
    from catalog
    left join worded
        on catalog.hypothesis_id = worded.hypothesis_id

)

select * from final
