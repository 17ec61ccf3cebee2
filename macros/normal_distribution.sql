{#- The standard normal distribution as portable SQL expressions (only +, -, *, /, abs, exp, sqrt and case),
    for p-values in SQL. No dbt context is used, so tests/python/test_hypotheses.py renders these macros with
    plain Jinja and checks them against scipy.

    erfc is the Chebyshev fit of Numerical Recipes (Press et al., 2nd ed., §6.2, erfcc): fractional (relative)
    error below 1.2e-7 everywhere, so that small tail probabilities keep their digits; Abramowitz-Stegun 7.1.26
    has an absolute error of 1.5e-7, which is the whole of a p-value near 1e-7. Arguments are SQL expressions;
    they appear several times in the result, so pass a column name, not a subquery. -#}


{#- Complementary error function erfc(x) = 1 - erf(x). -#}
{#- Beyond |x| = 26.3 erfc is below 2e-302 (2 minus that for negative x) and its exp() soon underflows, which
    PostgreSQL raises as an error ("value out of range: underflow", seen at 1 M orders) where DuckDB and Spark
    return 0: there the result is 0 (or 2) on every engine. -#}
{% macro erfc_sql(x) -%}
    {%- set t = '(1.0 / (1.0 + 0.5 * abs(' ~ x ~ ')))' -%}
    (case
        when ({{ x }}) >= 26.3 then 0.0
        when ({{ x }}) <= -26.3 then 2.0
        when ({{ x }}) >= 0 then {{ _erfc_positive(x, t) }}
        else 2.0 - {{ _erfc_positive(x, t) }}
    end)
{%- endmacro %}

{% macro _erfc_positive(x, t) -%}
    {{ t }} * exp(-({{ x }}) * ({{ x }}) - 1.26551223 + {{ t }} * (1.00002368 + {{ t }} * (0.37409196 + {{ t }} * (0.09678418
        + {{ t }} * (-0.18628806 + {{ t }} * (0.27886807 + {{ t }} * (-1.13520398 + {{ t }} * (1.48851587
        + {{ t }} * (-0.82215223 + {{ t }} * 0.17087277)))))))))
{%- endmacro %}


{#- Standard normal CDF: P(Z <= z) = erfc(-z / sqrt 2) / 2. -#}
{% macro normal_cdf(z) -%}
    (0.5 * {{ erfc_sql('(-(' ~ z ~ ') * 0.7071067811865476)') }})
{%- endmacro %}


{#- Two-sided p-value of a z statistic: P(|Z| >= |z|) = erfc(|z| / sqrt 2); null when z is null. -#}
{% macro normal_two_sided_p(z) -%}
    {{ erfc_sql('(abs(' ~ z ~ ') * 0.7071067811865476)') }}
{%- endmacro %}
