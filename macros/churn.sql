{#-
    Churn helpers shared by int_churn__*, customer_churn, segment_snapshots and churn_backtest. Every rule
    reads its var (defaults in dbt_project.yml) and validates it here, so a bad value stops the compile with a
    message naming the var.
-#}


{#- var churn_model: which estimate of the return probability customer_churn uses. empirical = Kaplan-Meier on the
    shop's own inter-purchase gaps; bg_nbd, mbg_nbd, pareto_nbd = P(a purchase within the horizon) from that BTYD
    model of clv_model_fit (only when it is identified, else empirical with the reason); auto = the lowest Brier
    score of empirical and the identified BTYD models on the same backtest customers and month ends
    (churn_model_selection). segment_snapshots is always empirical. -#}
{% macro churn_model() -%}
    {%- set model = var('churn_model') | string | trim | lower -%}
    {%- set allowed = ['empirical', 'bg_nbd', 'mbg_nbd', 'pareto_nbd', 'auto'] -%}
    {%- if model not in allowed -%}
        {{ exceptions.raise_compiler_error(
            "var churn_model must be one of " ~ allowed | join(', ') ~ ", got '" ~ var('churn_model') ~ "'"
        ) }}
    {%- endif -%}
    {{ return(model) }}
{%- endmacro %}


{#- var churn_horizon_days, validated: H of "P(purchase within H days)". -#}
{% macro churn_horizon_days() -%}
    {%- set horizon = var('churn_horizon_days') -%}
    {%- if horizon is not number or horizon != horizon | int or horizon < 1 -%}
        {{ exceptions.raise_compiler_error("var churn_horizon_days must be an integer >= 1, got " ~ horizon) }}
    {%- endif -%}
    {{ return(horizon | int) }}
{%- endmacro %}


{#- var churn_purchase_count_buckets, validated: ascending integers starting at 1; [1, 2, 3] means
    1, 2 and 3+ purchase days. -#}
{% macro churn_purchase_count_buckets() -%}
    {%- set buckets = var('churn_purchase_count_buckets') -%}
    {%- set ok = buckets is iterable and buckets is not string and buckets | length >= 1 -%}
    {%- if ok -%}
        {%- for b in buckets -%}
            {%- if b is not number or b != b | int or (loop.first and b != 1) or (not loop.first and b <= buckets[loop.index0 - 1]) -%}
                {%- set ok = false -%}
                {{ exceptions.raise_compiler_error(
                    "var churn_purchase_count_buckets must be ascending integers starting at 1, e.g. [1, 2, 3], got " ~ buckets
                ) }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var churn_purchase_count_buckets must be ascending integers starting at 1, e.g. [1, 2, 3], got " ~ buckets
        ) }}
    {%- endif -%}
    {{ return(buckets | map('int') | list) }}
{%- endmacro %}


{#- var churn_min_episodes, validated: a purchase-count bucket with fewer gap episodes pools with the one below. -#}
{% macro churn_min_episodes() -%}
    {%- set minimum = var('churn_min_episodes') -%}
    {%- if minimum is not number or minimum != minimum | int or minimum < 1 -%}
        {{ exceptions.raise_compiler_error("var churn_min_episodes must be an integer >= 1, got " ~ minimum) }}
    {%- endif -%}
    {{ return(minimum | int) }}
{%- endmacro %}


{#- var churn_risk_thresholds, validated: {high: h, low: l} with 0 <= l < h <= 1. -#}
{% macro churn_risk_thresholds() -%}
    {%- set t = var('churn_risk_thresholds') -%}
    {%- if t is not mapping or 'high' not in t or 'low' not in t
        or t['high'] is not number or t['low'] is not number
        or not (0 <= t['low'] < t['high'] <= 1) -%}
        {{ exceptions.raise_compiler_error(
            "var churn_risk_thresholds must be {high: h, low: l} with 0 <= l < h <= 1 (churn probabilities), got " ~ t
        ) }}
    {%- endif -%}
    {{ return(t) }}
{%- endmacro %}


{#- var churn_backtest_months, validated: how many of the latest month ends with a complete horizon the backtest scores. -#}
{% macro churn_backtest_months() -%}
    {%- set n = var('churn_backtest_months') -%}
    {%- if n is not number or n != n | int or n < 1 -%}
        {{ exceptions.raise_compiler_error("var churn_backtest_months must be an integer >= 1, got " ~ n) }}
    {%- endif -%}
    {{ return(n | int) }}
{%- endmacro %}


{#- The raw purchase-count bucket of a number of purchase days: the largest bucket value <= it. -#}
{% macro churn_purchase_day_bucket(purchase_days) -%}
    {%- set buckets = churn_purchase_count_buckets() -%}
    case
        {%- for b in buckets | reverse %}
        when {{ purchase_days }} >= {{ b }} then {{ b }}
        {%- endfor %}
    end
{%- endmacro %}


{#- CTE body rows: one per raw bucket with its value and the largest purchase-day count it holds
    (null for the open top bucket). -#}
{% macro churn_bucket_rows() -%}
    {%- set buckets = churn_purchase_count_buckets() -%}
    {%- for b in buckets %}
    select
        cast({{ b }} as {{ dbt.type_int() }}) as purchase_day_bucket,
        cast({{ (buckets[loop.index0 + 1] - 1) if not loop.last else 'null' }} as {{ dbt.type_int() }}) as bucket_max_purchase_days,
        {{ loop.index0 }} as bucket_index
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}


{#- high / medium / low from a churn probability and the absolute var churn_risk_thresholds:
    high at or above thresholds.high, low at or below thresholds.low, else medium. -#}
{% macro churn_risk_label(churn_probability) -%}
    {%- set t = churn_risk_thresholds() -%}
    case
        when {{ churn_probability }} is null then null
        when {{ churn_probability }} >= {{ t['high'] }} then 'high'
        when {{ churn_probability }} <= {{ t['low'] }} then 'low'
        else 'medium'
    end
{%- endmacro %}


{#- A percentage with one decimal as text, e.g. 0.0112 -> '1.1'. -#}
{% macro churn_percent_text(fraction) -%}
    cast(round(cast(100 * {{ fraction }} as {{ type_double() }}) * 10) / 10 as decimal(5, 1))
{%- endmacro %}


{#- The reason in words: "1 purchase day, silent 212 days: of customers with 1 purchase day still silent after
    212 days, an estimated 1.1 % bought again within 180 days", plus a note when the estimate leans on the
    extrapolated tail of the curve. -#}
{% macro churn_reason(purchase_days, days_silent, bucket_label, return_probability, is_extrapolated) -%}
    {%- set horizon = churn_horizon_days() -%}
    {{ dbt.concat([
        "cast(" ~ purchase_days ~ " as " ~ dbt.type_string() ~ ")",
        "case when " ~ purchase_days ~ " = 1 then ' purchase day' else ' purchase days' end",
        "', silent '",
        "cast(" ~ days_silent ~ " as " ~ dbt.type_string() ~ ")",
        "case when " ~ days_silent ~ " = 1 then ' day' else ' days' end",
        "': of customers with '",
        bucket_label,
        "case when " ~ bucket_label ~ " = '1' then ' purchase day' else ' purchase days' end",
        "' still silent after '",
        "cast(" ~ days_silent ~ " as " ~ dbt.type_string() ~ ")",
        "case when " ~ days_silent ~ " = 1 then ' day' else ' days' end",
        "', an estimated '",
        "cast(" ~ churn_percent_text(return_probability) ~ " as " ~ dbt.type_string() ~ ")",
        "' % bought again within " ~ horizon ~ " days'",
        "case when coalesce(" ~ is_extrapolated ~ ", false) then ' (partly extrapolated: few gaps that long were observed)' else '' end"
    ]) }}
{%- endmacro %}
