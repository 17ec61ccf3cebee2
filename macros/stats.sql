{#- Statistics of the hypothesis models (models/marts/hypotheses), in plain SQL: one small set of CTEs per
    method, each ending in a CTE `tested` with the same columns, then `result_cte` turns `tested` into the
    standard result row `compared` (p-value, effect size, verdict rule). A hypothesis model writes `units`
    (one row per unit of analysis) itself and ends with `select ... from compared`.

    method                          CTE macros (in order)                       units columns
    pearson correlation             correlation_ctes                            x, y
    difference in means             group_stats_cte, named_pair_cte, welch_ctes group_label, value
    difference in proportions       group_stats_cte, named_pair_cte, newcombe_ctes   group_label, value (0/1)
    max minus min group mean        group_stats_cte, extreme_pair_ctes, welch_ctes
    max minus min group proportion  group_stats_cte, extreme_pair_ctes, newcombe_ctes
    max minus min group share       (model builds `pair`), multinomial_difference_ctes
    window share minus best other   (model builds `pair`), multinomial_difference_ctes

    Every test is two-sided at var hypothesis_alpha with a normal reference distribution (the normal CDF of
    macros/normal_distribution.sql); groups smaller than var hypothesis_min_group_size are not tested (n >= 30
    by default, where the normal approximation of a mean is sound). Picking the highest and lowest of k groups
    is Bonferroni-adjusted within the hypothesis over the k(k-1)/2 pairs (interval and p-value); the Holm
    adjustment across hypotheses is in hypothesis_results. Each `tested` row carries insufficient_reason
    (null when the test could be run).
-#}


{#- z such that P(Z > z) = tail_p for a standard normal Z, for 0 < tail_p <= 0.5, from three columns of the
    same row: tail_p, tail_q = sqrt(-2 ln tail_p) and central_r = (tail_p - 0.5)^2 (see critical_ctes).
    Acklam's rational approximation (relative error < 1.2e-9): tail region below 0.02425, central region above. -#}
{% macro normal_upper_quantile(tail_p='tail_p', tail_q='tail_q', central_r='central_r') -%}
    case
        when {{ tail_p }} < 0.02425 then
            -(((((-7.784894002430293e-03 * {{ tail_q }} - 3.223964580411365e-01) * {{ tail_q }}
                - 2.400758277161838e+00) * {{ tail_q }} - 2.549732539343734e+00) * {{ tail_q }}
                + 4.374664141464968e+00) * {{ tail_q }} + 2.938163982698783e+00)
            / ((((7.784695709041462e-03 * {{ tail_q }} + 3.224671290700398e-01) * {{ tail_q }}
                + 2.445134137142996e+00) * {{ tail_q }} + 3.754408661907416e+00) * {{ tail_q }} + 1)
        when {{ tail_p }} <= 0.5 then
            -(((((-3.969683028665376e+01 * {{ central_r }} + 2.209460984245205e+02) * {{ central_r }}
                - 2.759285104469687e+02) * {{ central_r }} + 1.383577518672690e+02) * {{ central_r }}
                - 3.066479806614716e+01) * {{ central_r }} + 2.506628277459239e+00) * ({{ tail_p }} - 0.5)
            / (((((-5.447609879822406e+01 * {{ central_r }} + 1.615858368580409e+02) * {{ central_r }}
                - 1.556989798598866e+02) * {{ central_r }} + 6.680131188771972e+01) * {{ central_r }}
                - 1.328068155288572e+01) * {{ central_r }} + 1)
    end
{%- endmacro %}


{#- CTEs critical_tail, critical_terms and critical on top of `source_cte` (which has a column `comparisons`):
    critical adds z_critical, the two-sided normal quantile for `comparisons` simultaneous intervals at var
    hypothesis_alpha (Bonferroni; null when there is nothing to compare). -#}
{% macro critical_ctes(source_cte) -%}
critical_tail as (

    select
        {{ source_cte }}.*,
        {{ var('hypothesis_alpha') }} / (2.0 * nullif(comparisons, 0)) as tail_p
    from {{ source_cte }}

),

critical_terms as (

    select
        critical_tail.*,
        sqrt(-2 * ln(tail_p)) as tail_q,
        (tail_p - 0.5) * (tail_p - 0.5) as central_r
    from critical_tail

),

critical as (

    select
        critical_terms.*,
        {{ normal_upper_quantile() | indent(4) }} as z_critical
    from critical_terms

)
{%- endmacro %}


{#- Fisher's z of a correlation, and back. -#}
{% macro atanh_sql(r) -%}
    (0.5 * ln((1 + ({{ r }})) / (1 - ({{ r }}))))
{%- endmacro %}

{% macro tanh_sql(u) -%}
    ((exp(2 * ({{ u }})) - 1) / (exp(2 * ({{ u }})) + 1))
{%- endmacro %}


{#- Cohen's h between two proportions: 2 asin(sqrt(p_a)) - 2 asin(sqrt(p_b)). -#}
{% macro cohens_h(p_a, p_b) -%}
    (2 * asin(sqrt({{ p_a }})) - 2 * asin(sqrt({{ p_b }})))
{%- endmacro %}


{#- Wilson score interval of a proportion p of n at critical value z: which = 'low' or 'high'.
    Valid at p = 0 and p = 1, where the Wald interval collapses to a point. -#}
{% macro wilson_bound(p, n, z, which) -%}
    (({{ p }} + {{ z }} * {{ z }} / (2.0 * {{ n }}))
        {{ '-' if which == 'low' else '+' }} {{ z }} * sqrt({{ p }} * (1 - {{ p }}) / {{ n }} + {{ z }} * {{ z }} / (4.0 * {{ n }} * {{ n }})))
    / (1 + {{ z }} * {{ z }} / {{ n }})
{%- endmacro %}


{#- pearson correlation: Pearson r of units.x and units.y, CI by Fisher's z (atanh(r) ± z / sqrt(n - 3)),
    p-value of z = atanh(r) * sqrt(n - 3). Effect size: r. -#}
{% macro correlation_ctes(x_label, y_label) -%}
{%- set dbl = type_double() -%}
pairs as (

    select
        cast(x as {{ dbl }}) as x,
        cast(y as {{ dbl }}) as y
    from units
    where x is not null
        and y is not null

),

moments as (

    select
        count(*) as n,
        avg(x) as mean_x,
        avg(y) as mean_y,
        corr(x, y) as r,
        1 as comparisons
    from pairs

),

fisher as (

    select
        moments.*,
        case
            when n < {{ var('hypothesis_min_group_size') }} then 'only ' || cast(n as {{ dbt.type_string() }})
                || ' units, fewer than hypothesis_min_group_size ({{ var('hypothesis_min_group_size') }})'
            when r is null then 'x or y does not vary'
            when r <= -1 or r >= 1 then 'a perfect correlation has no Fisher-z interval'
        end as insufficient_reason,
        case when n > 3 and r > -1 and r < 1 then {{ atanh_sql('r') }} end as fisher_z,
        case when n > 3 then 1 / sqrt(n - 3.0) end as fisher_se
    from moments

),

{{ critical_ctes('fisher') }},

tested as (

    select
        '{{ x_label }}' as group_a,
        mean_x as value_a,
        n as n_a,
        '{{ y_label }}' as group_b,
        mean_y as value_b,
        n as n_b,
        n,
        r as estimate,
        fisher_se as std_error,
        z_critical,
        comparisons,
        case when insufficient_reason is null then {{ tanh_sql('fisher_z - z_critical * fisher_se') }} end as ci_low,
        case when insufficient_reason is null then {{ tanh_sql('fisher_z + z_critical * fisher_se') }} end as ci_high,
        case when insufficient_reason is null then fisher_z / fisher_se end as z_statistic,
        r as effect_size,
        insufficient_reason
    from critical

)
{%- endmacro %}


{#- group_stats: per group_label of units, the count, mean, sample variance and sum of value. -#}
{% macro group_stats_cte() -%}
clean_units as (

    select
        cast(group_label as {{ dbt.type_string() }}) as group_label,
        cast(value as {{ type_double() }}) as value
    from units
    where group_label is not null
        and value is not null

),

group_stats as (

    select
        group_label,
        count(*) as n_units,
        avg(value) as mean_value,
        var_samp(value) as var_value,
        sum(value) as sum_value
    from clean_units
    group by group_label

)
{%- endmacro %}


{#- pair: the two named groups of group_stats (group_a first); n counts the units of both. -#}
{% macro named_pair_cte(group_a, group_b) -%}
pair as (

    select
        '{{ group_a }}' as group_a,
        coalesce(sum(case when group_label = '{{ group_a }}' then n_units end), 0) as n_a,
        max(case when group_label = '{{ group_a }}' then mean_value end) as value_a,
        max(case when group_label = '{{ group_a }}' then var_value end) as var_a,
        '{{ group_b }}' as group_b,
        coalesce(sum(case when group_label = '{{ group_b }}' then n_units end), 0) as n_b,
        max(case when group_label = '{{ group_b }}' then mean_value end) as value_b,
        max(case when group_label = '{{ group_b }}' then var_value end) as var_b,
        coalesce(sum(case when group_label in ('{{ group_a }}', '{{ group_b }}') then n_units end), 0) as n,
        1 as comparisons,
        case
            {%- for label in [group_a, group_b] %}
            when coalesce(sum(case when group_label = '{{ label }}' then n_units end), 0) < {{ var('hypothesis_min_group_size') }}
                then {{ sql_string("group '" ~ label ~ "' has ") }} || cast(coalesce(sum(case when group_label = '{{ label }}' then n_units end), 0) as {{ dbt.type_string() }})
                    || ' units, fewer than hypothesis_min_group_size ({{ var('hypothesis_min_group_size') }})'
            {%- endfor %}
        end as insufficient_reason
    from group_stats

)
{%- endmacro %}


{#- pair: the highest (group_a) and lowest (group_b) mean among groups of at least var hypothesis_min_group_size
    units (ties by label); comparisons = k(k-1)/2 for the k eligible groups; n counts all units with a group. -#}
{% macro extreme_pair_ctes() -%}
eligible_groups as (

    select * from group_stats
    where n_units >= {{ var('hypothesis_min_group_size') }}

),

ranked_groups as (

    select
        eligible_groups.*,
        row_number() over (order by mean_value desc, group_label) as rank_high,
        row_number() over (order by mean_value asc, group_label) as rank_low,
        count(*) over () as group_count
    from eligible_groups

),

extremes as (

    select
        max(case when rank_high = 1 then group_label end) as group_a,
        coalesce(max(case when rank_high = 1 then n_units end), 0) as n_a,
        max(case when rank_high = 1 then mean_value end) as value_a,
        max(case when rank_high = 1 then var_value end) as var_a,
        max(case when rank_low = 1 then group_label end) as group_b,
        coalesce(max(case when rank_low = 1 then n_units end), 0) as n_b,
        max(case when rank_low = 1 then mean_value end) as value_b,
        max(case when rank_low = 1 then var_value end) as var_b,
        coalesce(max(group_count), 0) as group_count
    from ranked_groups

),

pair as (

    select
        extremes.group_a,
        extremes.n_a,
        extremes.value_a,
        extremes.var_a,
        extremes.group_b,
        extremes.n_b,
        extremes.value_b,
        extremes.var_b,
        unit_count.n,
        extremes.group_count * (extremes.group_count - 1) / 2 as comparisons,
        case
            when extremes.group_count < 2
                then 'fewer than 2 groups with at least hypothesis_min_group_size ({{ var('hypothesis_min_group_size') }}) units'
        end as insufficient_reason
    from extremes
    cross join (select count(*) as n from clean_units) as unit_count

)
{%- endmacro %}


{#- difference in means (Welch): estimate = value_a - value_b, standard error sqrt(var_a / n_a + var_b / n_b),
    z = estimate / standard error. Effect size: Cohen's d with the mean of the two variances. -#}
{% macro welch_ctes() -%}
{{ critical_ctes('pair') }},

welch as (

    select
        critical.*,
        value_a - value_b as estimate,
        sqrt(var_a / nullif(n_a, 0) + var_b / nullif(n_b, 0)) as std_error,
        (value_a - value_b) / nullif(sqrt((var_a + var_b) / 2), 0) as effect_size
    from critical

),

tested as (

    select
        group_a,
        value_a,
        n_a,
        group_b,
        value_b,
        n_b,
        n,
        estimate,
        std_error,
        z_critical,
        comparisons,
        case when insufficient_reason is null and std_error > 0 then estimate - z_critical * std_error end as ci_low,
        case when insufficient_reason is null and std_error > 0 then estimate + z_critical * std_error end as ci_high,
        case when insufficient_reason is null and std_error > 0 then estimate / std_error end as z_statistic,
        effect_size,
        coalesce(
            insufficient_reason,
            case when not std_error > 0 or std_error is null then 'the values do not vary within the groups' end
        ) as insufficient_reason
    from welch

)
{%- endmacro %}


{#- difference in proportions (value 0/1): Newcombe's hybrid score interval (his method 10: Wilson intervals of
    each proportion combined), valid near 0 and 1; p-value of the pooled two-proportion z test. Effect size:
    Cohen's h. -#}
{% macro newcombe_ctes() -%}
{{ critical_ctes('pair') }},

wilson as (

    select
        critical.*,
        value_a - value_b as estimate,
        (n_a * value_a + n_b * value_b) / nullif(n_a + n_b, 0) as pooled_p,
        {{ wilson_bound('value_a', 'n_a', 'z_critical', 'low') }} as low_a,
        {{ wilson_bound('value_a', 'n_a', 'z_critical', 'high') }} as high_a,
        {{ wilson_bound('value_b', 'n_b', 'z_critical', 'low') }} as low_b,
        {{ wilson_bound('value_b', 'n_b', 'z_critical', 'high') }} as high_b
    from critical

),

pooled as (

    select
        wilson.*,
        sqrt(pooled_p * (1 - pooled_p) * (1.0 / nullif(n_a, 0) + 1.0 / nullif(n_b, 0))) as std_error
    from wilson

),

tested as (

    select
        group_a,
        value_a,
        n_a,
        group_b,
        value_b,
        n_b,
        n,
        estimate,
        std_error,
        z_critical,
        comparisons,
        case when insufficient_reason is null then
            estimate - sqrt((value_a - low_a) * (value_a - low_a) + (high_b - value_b) * (high_b - value_b))
        end as ci_low,
        case when insufficient_reason is null then
            estimate + sqrt((high_a - value_a) * (high_a - value_a) + (value_b - low_b) * (value_b - low_b))
        end as ci_high,
        -- both proportions 0 (or both 1): no difference, z = 0 and p = 1
        case when insufficient_reason is null then coalesce(estimate / nullif(std_error, 0), 0) end as z_statistic,
        {{ cohens_h('value_a', 'value_b') }} as effect_size,
        insufficient_reason
    from pooled

)
{%- endmacro %}


{#- Difference of two cell shares of one multinomial sample of n units: `pair` has group_a, n_a, value_a (share),
    group_b, n_b, value_b, n, comparisons, insufficient_reason, and only_a / only_b, the units counted in one of
    the two cells but not the other (cells may overlap, as time windows do). Standard error
    sqrt((q_a + q_b - (q_a - q_b)^2) / n) with q = only / n. Effect size: Cohen's h of the two shares. -#}
{% macro multinomial_difference_ctes() -%}
{{ critical_ctes('pair') }},

multinomial as (

    select
        critical.*,
        value_a - value_b as estimate,
        cast(only_a as {{ type_double() }}) / nullif(n, 0) as q_a,
        cast(only_b as {{ type_double() }}) / nullif(n, 0) as q_b
    from critical

),

with_error as (

    select
        multinomial.*,
        sqrt((q_a + q_b - (q_a - q_b) * (q_a - q_b)) / n) as std_error
    from multinomial

),

tested as (

    select
        group_a,
        value_a,
        n_a,
        group_b,
        value_b,
        n_b,
        n,
        estimate,
        std_error,
        z_critical,
        comparisons,
        case when insufficient_reason is null and std_error > 0 then estimate - z_critical * std_error end as ci_low,
        case when insufficient_reason is null and std_error > 0 then estimate + z_critical * std_error end as ci_high,
        case when insufficient_reason is null and std_error > 0 then estimate / std_error end as z_statistic,
        {{ cohens_h('value_a', 'value_b') }} as effect_size,
        coalesce(
            insufficient_reason,
            case when not std_error > 0 or std_error is null then 'the two cells hold the same units' end
        ) as insufficient_reason
    from with_error

)
{%- endmacro %}


{#- compared: the standard result row from `tested`. p_value: two-sided normal p of z_statistic, times
    `comparisons` (Bonferroni within the hypothesis), at most 1. effect_size_measure names the standardized
    effect, min_effect_size is its threshold from var hypothesis_min_effect_size. -#}
{% macro result_cte(method, direction, effect_measure, verdict_rule) -%}
{%- set dbl = type_double() -%}
{%- set txt = dbt.type_string() -%}
{%- set big = dbt.type_bigint() -%}
{%- if effect_measure not in ['pearson_r', 'cohens_d', 'cohens_h'] -%}
    {{ exceptions.raise_compiler_error('result_cte: unknown effect measure ' ~ effect_measure) }}
{%- endif -%}
{%- if direction not in ['positive', 'negative', 'any'] -%}
    {{ exceptions.raise_compiler_error('result_cte: direction must be positive, negative or any, not ' ~ direction) }}
{%- endif -%}
raw_p as (

    select
        tested.*,
        {{ normal_two_sided_p('z_statistic') }} as unadjusted_p
    from tested

),

compared as (

    select
        cast('{{ method }}' as {{ txt }}) as method,
        cast('{{ direction }}' as {{ txt }}) as expected_direction,
        cast(group_a as {{ txt }}) as group_a,
        cast(value_a as {{ dbl }}) as value_a,
        cast(n_a as {{ big }}) as n_a,
        cast(group_b as {{ txt }}) as group_b,
        cast(value_b as {{ dbl }}) as value_b,
        cast(n_b as {{ big }}) as n_b,
        cast(estimate as {{ dbl }}) as estimate,
        cast(std_error as {{ dbl }}) as std_error,
        cast(z_critical as {{ dbl }}) as z_critical,
        cast(comparisons as {{ big }}) as comparisons,
        cast(ci_low as {{ dbl }}) as ci_low,
        cast(ci_high as {{ dbl }}) as ci_high,
        cast(n as {{ big }}) as n,
        cast(z_statistic as {{ dbl }}) as z_statistic,
        cast(case when unadjusted_p * comparisons > 1 then 1 else unadjusted_p * comparisons end as {{ dbl }}) as p_value,
        cast(case when insufficient_reason is null then effect_size end as {{ dbl }}) as effect_size,
        cast('{{ effect_measure }}' as {{ txt }}) as effect_size_measure,
        cast({{ var('hypothesis_min_effect_size')[effect_measure] }} as {{ dbl }}) as min_effect_size,
        cast(case when n > 0 then insufficient_reason end as {{ txt }}) as insufficient_reason,
        cast({{ sql_string(verdict_rule) }} as {{ txt }}) as verdict_rule
    from raw_p

)
{%- endmacro %}


{#- The decision rule in words, for verdict_rule. -#}
{% macro hypothesis_verdict_rule(effect_measure, direction, comparisons_note='') -%}
    {%- set sign = {'positive': 'positive', 'negative': 'negative', 'any': 'either sign'}[direction] -%}
    {%- set names = {'pearson_r': "|r|", 'cohens_d': "|Cohen's d|", 'cohens_h': "|Cohen's h|"} -%}
    supported if the estimate is {{ sign }}, its p-value{{ comparisons_note }} after Holm's adjustment across all hypotheses with data is below {{ var('hypothesis_alpha') }}, and {{ names[effect_measure] }} >= {{ var('hypothesis_min_effect_size')[effect_measure] }}; groups (or samples) of fewer than {{ var('hypothesis_min_group_size') }} units are not tested (insufficient data); no data when n = 0
{%- endmacro %}


{#- Detail of analyses/hNN_*.sql for a correlation: `deciles`, per decile of units.x the units, the x range and
    the mean of y (the same pairs as correlation_ctes). -#}
{% macro decile_detail_cte() -%}
deciles as (

    select
        x_decile,
        count(*) as n_units,
        min(x) as min_x,
        max(x) as max_x,
        avg(y) as mean_y
    from (
        select
            cast(x as {{ type_double() }}) as x,
            cast(y as {{ type_double() }}) as y,
            ntile(10) over (order by x) as x_decile
        from units
        where x is not null
            and y is not null
    ) as binned
    group by x_decile

)
{%- endmacro %}
