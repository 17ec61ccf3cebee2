{#- Statistics helpers for the hypothesis tests: confidence intervals by normal approximation, in plain SQL.

    hypothesis_test(kind, ...) is the engine of every macro in macros/hypotheses.sql. The caller writes the
    CTEs that build `units` (one row per unit of analysis: order, customer, product or day) and ends its
    list with a comma; hypothesis_test appends the statistics and the final select. output='result' gives
    the one standard row of the mart hypothesis_results; output='detail' gives the per-group (or per-decile)
    table that analyses/hNN_*.sql show. Both come from the same `units`, so analyses and mart cannot drift.

    kinds and the columns `units` must have:
      correlation        x, y                Pearson r (corr), 95 % CI by Fisher's z
      two_means          group_label, value  mean(a) - mean(b), unpooled (Welch) standard error
      extreme_means      group_label, value  highest minus lowest group mean among groups with at least
                                             var hypothesis_min_group_size units, Bonferroni over the k(k-1)/2 pairs
      extreme_shares     group_label         share of the most minus the least frequent group, multinomial
                                             variance (p1 + p2 - (p1 - p2)^2) / n, Bonferroni over pairs
      share_vs_expected  group_label, value  share of units with value = 1 minus an expected share
    variance='pop' for 0/1 values (a proportion's p(1-p)), 'samp' otherwise.
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


{#- CTEs tail, tail_terms and critical on top of `source_cte` (which has a column `comparisons`): critical adds
    z_critical, the two-sided normal quantile for `comparisons` simultaneous intervals at var hypothesis_alpha
    (Bonferroni; null when there is nothing to compare). The caller writes the comma after the last CTE. -#}
{% macro critical_ctes(source_cte) -%}
tail as (

    select
        {{ source_cte }}.*,
        {{ var('hypothesis_alpha') }} / (2.0 * nullif(comparisons, 0)) as tail_p
    from {{ source_cte }}

),

tail_terms as (

    select
        tail.*,
        sqrt(-2 * ln(tail_p)) as tail_q,
        (tail_p - 0.5) * (tail_p - 0.5) as central_r
    from tail

),

critical as (

    select
        tail_terms.*,
        {{ normal_upper_quantile() | indent(4) }} as z_critical
    from tail_terms

)
{%- endmacro %}


{#- critical_ctes on `source_cte`, then `tested`: the two-sided interval estimate ± z_critical * std_error.
    `source_cte` has group_a, value_a, n_a, group_b, value_b, n_b, n, estimate, std_error and comparisons.
    The caller writes the comma after the last CTE. -#}
{% macro interval_ctes(source_cte) -%}
{{ critical_ctes(source_cte) }},

tested as (

    select
        group_a,
        value_a,
        n_a,
        group_b,
        value_b,
        n_b,
        estimate,
        std_error,
        z_critical,
        comparisons,
        estimate - z_critical * std_error as ci_low,
        estimate + z_critical * std_error as ci_high,
        n
    from critical

)
{%- endmacro %}


{#- Fisher's z of a correlation, and back. -#}
{% macro atanh_sql(r) -%}
    (0.5 * ln((1 + ({{ r }})) / (1 - ({{ r }}))))
{%- endmacro %}

{% macro tanh_sql(u) -%}
    ((exp(2 * ({{ u }})) - 1) / (exp(2 * ({{ u }})) + 1))
{%- endmacro %}


{#- The verdict of a test row, and the sentence that states the rule. -#}
{% macro hypothesis_verdict(direction, min_abs_estimate=none) -%}
    {%- set size_rule = (' and abs(estimate) >= ' ~ min_abs_estimate) if min_abs_estimate is not none else '' -%}
    case
        when n = 0 then 'no data'
        when ci_low is null or ci_high is null then 'insufficient data'
        {%- if direction == 'positive' %}
        when estimate > 0 and ci_low > 0{{ size_rule }} then 'supported'
        {%- elif direction == 'negative' %}
        when estimate < 0 and ci_high < 0{{ size_rule }} then 'supported'
        {%- else %}
        when (ci_low > 0 or ci_high < 0){{ size_rule }} then 'supported'
        {%- endif %}
        else 'not supported'
    end
{%- endmacro %}

{% macro hypothesis_verdict_rule(kind, direction, group_a=none, group_b=none) -%}
    {%- set level = '%g' % ((1 - var('hypothesis_alpha')) * 100) -%}
    {%- set sign = {'positive': ' > 0', 'negative': ' < 0', 'any': ' != 0'}[direction] -%}
    {%- if kind == 'correlation' -%}
        supported if r{{ sign }}, |r| >= {{ var('hypothesis_min_abs_correlation') }} and the {{ level }} % CI of r (Fisher z, normal approximation) excludes 0
    {%- elif kind == 'two_means' -%}
        supported if mean({{ group_a }}) - mean({{ group_b }}){{ sign }} and its {{ level }} % CI (normal approximation, unpooled variances) excludes 0
    {%- elif kind == 'extreme_means' -%}
        supported if the highest minus the lowest group mean (groups of at least {{ var('hypothesis_min_group_size') }} units) has a {{ level }} % CI, Bonferroni-adjusted over the k(k-1)/2 group pairs, that excludes 0
    {%- elif kind == 'extreme_shares' -%}
        supported if the share of the most frequent minus the least frequent group has a {{ level }} % CI (multinomial variance), Bonferroni-adjusted over the k(k-1)/2 group pairs, that excludes 0
    {%- elif kind == 'share_vs_expected' -%}
        supported if the observed share minus the expected share{{ sign }} and its {{ level }} % CI (normal approximation) excludes 0
    {%- endif -%}
    ; no data when n = 0; insufficient data when the interval cannot be computed
{%- endmacro %}


{#- See the header of this file. Appends CTEs to the caller's `with ... units as (...),` and the final select. -#}
{% macro hypothesis_test(
    kind,
    output,
    hypothesis_id,
    grain,
    metric,
    direction='any',
    group_a=none,
    group_b=none,
    variance='samp',
    expected=none,
    x_label=none,
    y_label=none
) -%}
{%- set dbl = type_double() -%}
{%- set txt = dbt.type_string() -%}
{%- set methods = {
    'correlation': 'pearson correlation',
    'two_means': 'difference in means' if variance == 'samp' else 'difference in proportions',
    'extreme_means': 'max minus min group mean' if variance == 'samp' else 'max minus min group proportion',
    'extreme_shares': 'max minus min group share',
    'share_vs_expected': 'share minus expected share',
} -%}
{%- if kind not in methods -%}
    {{ exceptions.raise_compiler_error('hypothesis_test: unknown kind ' ~ kind) }}
{%- endif -%}
{%- if output not in ['result', 'detail'] -%}
    {{ exceptions.raise_compiler_error('hypothesis_test: output must be result or detail, not ' ~ output) }}
{%- endif -%}

{%- if kind == 'correlation' %}

pairs as (

    select
        cast(x as {{ dbl }}) as x,
        cast(y as {{ dbl }}) as y
    from units
    where x is not null
        and y is not null

),

{%- if output == 'detail' %}

binned as (

    select
        x,
        y,
        ntile(10) over (order by x) as x_decile
    from pairs

),

final as (

    select
        x_decile,
        count(*) as n_units,
        min(x) as min_x,
        max(x) as max_x,
        avg(y) as mean_y
    from binned
    group by x_decile

)

select * from final
order by x_decile

{%- else %}

moments as (

    select
        count(*) as n,
        avg(x) as mean_x,
        avg(y) as mean_y,
        corr(x, y) as r
    from pairs

),

fisher as (

    select
        moments.*,
        1 as comparisons,
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
        r as estimate,
        fisher_se as std_error,
        z_critical,
        comparisons,
        {{ tanh_sql('fisher_z - z_critical * fisher_se') }} as ci_low,
        {{ tanh_sql('fisher_z + z_critical * fisher_se') }} as ci_high,
        n
    from critical

),
{%- endif %}

{%- elif kind in ['two_means', 'extreme_means'] %}

clean_units as (

    select
        cast(group_label as {{ txt }}) as group_label,
        cast(value as {{ dbl }}) as value
    from units
    where group_label is not null
        and value is not null

),

group_stats as (

    select
        group_label,
        count(*) as n_units,
        avg(value) as mean_value,
        var_{{ variance }}(value) as var_value
    from clean_units
    group by group_label

),

{%- if output == 'detail' %}

final as (

    select
        group_label,
        n_units,
        mean_value,
        sqrt(var_value) as sd_value
        {%- if kind == 'extreme_means' %},
        n_units >= {{ var('hypothesis_min_group_size') }} as is_compared
        {%- endif %}
    from group_stats

)

select * from final
order by group_label

{%- else %}

{%- if kind == 'two_means' %}

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
        1 as comparisons,
        coalesce(sum(case when group_label in ('{{ group_a }}', '{{ group_b }}') then n_units end), 0) as n
    from group_stats

),

{%- else %}

eligible as (

    select * from group_stats
    where n_units >= {{ var('hypothesis_min_group_size') }}

),

ranked as (

    select
        group_label,
        n_units,
        mean_value,
        var_value,
        row_number() over (order by mean_value desc, group_label) as rank_high,
        row_number() over (order by mean_value asc, group_label) as rank_low,
        count(*) over () as group_count
    from eligible

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
    from ranked

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
        extremes.group_count * (extremes.group_count - 1) / 2 as comparisons,
        unit_count.n
    from extremes
    cross join (select count(*) as n from clean_units) as unit_count

),

{%- endif %}

with_error as (

    select
        pair.*,
        value_a - value_b as estimate,
        case
            when n_a >= 2 and n_b >= 2 and comparisons >= 1 then sqrt(var_a / n_a + var_b / n_b)
        end as std_error
    from pair

),

{{ interval_ctes('with_error') }},
{%- endif %}

{%- elif kind == 'extreme_shares' %}

clean_units as (

    select cast(group_label as {{ txt }}) as group_label
    from units
    where group_label is not null

),

group_counts as (

    select
        group_label,
        count(*) as n_units
    from clean_units
    group by group_label

),

shares as (

    select
        group_counts.group_label,
        group_counts.n_units,
        cast(group_counts.n_units as {{ dbl }}) / totals.n as share,
        totals.n,
        totals.group_count
    from group_counts
    cross join (select sum(n_units) as n, count(*) as group_count from group_counts) as totals

),

{%- if output == 'detail' %}

final as (

    select
        group_label,
        n_units,
        share
    from shares

)

select * from final
order by group_label

{%- else %}

ranked as (

    select
        shares.*,
        row_number() over (order by n_units desc, group_label) as rank_high,
        row_number() over (order by n_units asc, group_label) as rank_low
    from shares

),

pair as (

    select
        max(case when rank_high = 1 then group_label end) as group_a,
        coalesce(max(case when rank_high = 1 then n_units end), 0) as n_a,
        max(case when rank_high = 1 then share end) as value_a,
        max(case when rank_low = 1 then group_label end) as group_b,
        coalesce(max(case when rank_low = 1 then n_units end), 0) as n_b,
        max(case when rank_low = 1 then share end) as value_b,
        coalesce(max(group_count) * (max(group_count) - 1) / 2, 0) as comparisons,
        coalesce(max(n), 0) as n
    from ranked

),

with_error as (

    select
        pair.*,
        value_a - value_b as estimate,
        case
            when comparisons >= 1 then sqrt((value_a + value_b - (value_a - value_b) * (value_a - value_b)) / n)
        end as std_error
    from pair

),

{{ interval_ctes('with_error') }},
{%- endif %}

{%- elif kind == 'share_vs_expected' %}

clean_units as (

    select
        cast(group_label as {{ txt }}) as group_label,
        cast(value as {{ dbl }}) as value
    from units
    where value is not null

),

{%- if output == 'detail' %}

final as (

    select
        group_label,
        count(*) as n_units,
        cast(count(*) as {{ dbl }}) / (select count(*) from clean_units) as share,
        max(value) = 1 as is_in_claimed_set
    from clean_units
    group by group_label

)

select * from final
order by group_label

{%- else %}

observed as (

    select
        count(*) as n,
        coalesce(sum(value), 0) as n_in,
        avg(value) as share
    from clean_units

),

with_error as (

    select
        '{{ group_a }}' as group_a,
        share as value_a,
        n_in as n_a,
        '{{ group_b }}' as group_b,
        cast({{ expected }} as {{ dbl }}) as value_b,
        n as n_b,
        n,
        share - cast({{ expected }} as {{ dbl }}) as estimate,
        case when n >= 2 then sqrt(share * (1 - share) / n) end as std_error,
        1 as comparisons
    from observed

),

{{ interval_ctes('with_error') }},
{%- endif %}

{%- endif %}

{%- if output == 'result' %}

final as (

    select
        cast('{{ hypothesis_id }}' as {{ txt }}) as hypothesis_id,
        cast('{{ grain }}' as {{ txt }}) as grain,
        cast('{{ metric | replace("'", "''") }}' as {{ txt }}) as metric,
        cast('{{ methods[kind] }}' as {{ txt }}) as method,
        cast('{{ direction }}' as {{ txt }}) as expected_direction,
        cast(group_a as {{ txt }}) as group_a,
        cast(value_a as {{ dbl }}) as value_a,
        cast(n_a as {{ dbt.type_bigint() }}) as n_a,
        cast(group_b as {{ txt }}) as group_b,
        cast(value_b as {{ dbl }}) as value_b,
        cast(n_b as {{ dbt.type_bigint() }}) as n_b,
        cast(estimate as {{ dbl }}) as estimate,
        cast(std_error as {{ dbl }}) as std_error,
        cast(z_critical as {{ dbl }}) as z_critical,
        cast(comparisons as {{ dbt.type_bigint() }}) as comparisons,
        cast(ci_low as {{ dbl }}) as ci_low,
        cast(ci_high as {{ dbl }}) as ci_high,
        cast(n as {{ dbt.type_bigint() }}) as n,
        cast(
            {{ hypothesis_verdict(direction, var('hypothesis_min_abs_correlation') if kind == 'correlation' else none) | indent(8) }}
            as {{ txt }}
        ) as verdict,
        cast('{{ hypothesis_verdict_rule(kind, direction, group_a, group_b) | replace("'", "''") }}' as {{ txt }}) as verdict_rule
    from tested

)

select * from final
{%- endif %}
{%- endmacro %}
