{#- One row per hypothesis of seeds/hypothesis_catalog.csv. Each result comes from the macro
    hypothesis_hNN() in macros/hypotheses.sql, the same SQL that analyses/hNN_*.sql render in detail. -#}

with

catalog as (

    select * from {{ ref('hypothesis_catalog') }}

),

h01_result as (

    {{ hypothesis_h01() | indent(4) }}

),

h02_result as (

    {{ hypothesis_h02() | indent(4) }}

),

h03_result as (

    {{ hypothesis_h03() | indent(4) }}

),

h04_result as (

    {{ hypothesis_h04() | indent(4) }}

),

h05_result as (

    {{ hypothesis_h05() | indent(4) }}

),

h06_result as (

    {{ hypothesis_h06() | indent(4) }}

),

h07_result as (

    {{ hypothesis_h07() | indent(4) }}

),

h08_result as (

    {{ hypothesis_h08() | indent(4) }}

),

h09_result as (

    {{ hypothesis_h09() | indent(4) }}

),

h10_result as (

    {{ hypothesis_h10() | indent(4) }}

),

h11_result as (

    {{ hypothesis_h11() | indent(4) }}

),

h12_result as (

    {{ hypothesis_h12() | indent(4) }}

),

h13_result as (

    {{ hypothesis_h13() | indent(4) }}

),

h14_result as (

    {{ hypothesis_h14() | indent(4) }}

),

h15_result as (

    {{ hypothesis_h15() | indent(4) }}

),

h16_result as (

    {{ hypothesis_h16() | indent(4) }}

),

h17_result as (

    {{ hypothesis_h17() | indent(4) }}

),

h18_result as (

    {{ hypothesis_h18() | indent(4) }}

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

final as (

    select
        catalog.hypothesis_id,
        catalog.short_name,
        catalog.statement,
        catalog.requires,
        results.grain,
        results.metric,
        results.method,
        results.expected_direction,
        results.group_a,
        results.value_a,
        results.n_a,
        results.group_b,
        results.value_b,
        results.n_b,
        results.estimate,
        results.std_error,
        results.z_critical,
        results.comparisons,
        results.ci_low,
        results.ci_high,
        results.n,
        results.verdict,
        results.verdict_rule,
        catalog.seed_result,
        catalog.seed_verdict,
        catalog.seed_grain_note,
        case
            when coalesce(results.n, 0) > 0 then null
            {%- if input_format() == 'transactions' %}
            when catalog.olist_only_data is not null
                then 'the transactions layout has no ' || catalog.olist_only_data
            {%- endif %}
            when catalog.requires = 'reviews' then 'the reviews table is empty'
            when catalog.requires = 'season_window'
                then 'no sales season (var hypothesis_season_months) with as many months before and after it in the data'
            when catalog.olist_only_data is not null then 'the data hold no ' || catalog.olist_only_data
            else 'no purchases qualify'
        end as no_data_reason
    from catalog
    left join results
        on catalog.hypothesis_id = results.hypothesis_id

)

select * from final
