{#-
    Scoring helpers shared by customer_rfm, customer_abc_xyz and segment_snapshots, so the current
    marts and the monthly as-of snapshots apply exactly the same rules. Every rule reads its var
    (defaults in dbt_project.yml); nothing here holds a business literal of its own.
-#}


{#- var rfm_bins, validated: the number of quantile bins of every RFM score. -#}
{% macro segmentation_rfm_bins() -%}
    {%- set bins = var('rfm_bins') | int -%}
    {%- if bins < 2 -%}
        {{ exceptions.raise_compiler_error("var rfm_bins must be an integer >= 2, got " ~ var('rfm_bins')) }}
    {%- endif -%}
    {{ return(bins) }}
{%- endmacro %}


{#- The reference date: var analysis_date when set, else the day after the latest purchase date.
    latest_purchase_date is a SQL expression (usually an aggregate such as max(purchase_date)). -#}
{% macro segmentation_analysis_date(latest_purchase_date) -%}
    {%- set fixed = var('analysis_date', none) -%}
    {%- if fixed is none or (fixed | string | trim | lower) in ('', 'none', 'null') -%}
        cast({{ dbt.dateadd('day', 1, latest_purchase_date) }} as date)
    {%- else -%}
        cast('{{ fixed | string | trim }}' as date)
    {%- endif -%}
{%- endmacro %}


{#- Select-list items: the rfm_bins - 1 quantile thresholds of a metric,
    <prefix>_1 .. <prefix>_<n-1> = percentile_cont(k / n), interpolated in double precision
    (a decimal percentile would be rounded to the metric's scale and could land on a neighbour). -#}
{% macro segmentation_quantile_thresholds(metric, prefix) -%}
    {%- set bins = segmentation_rfm_bins() -%}
    {%- for k in range(1, bins) %}
        percentile_cont({{ k / bins }}) within group (
            order by cast({{ metric }} as {{ type_double() }})
        ) as {{ prefix }}_{{ k }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- Score 1..n from the thresholds of segmentation_quantile_thresholds: value <= <prefix>_1 -> 1, ...,
    above <prefix>_<n-1> -> n. reverse=true flips it (recency: the smallest value scores n).
    Ties share a score by construction. -#}
{% macro segmentation_quantile_score(metric, prefix, reverse=false) -%}
    {%- set bins = segmentation_rfm_bins() -%}
    case
        {%- for k in range(1, bins) %}
        when {{ metric }} <= {{ prefix }}_{{ k }} then {{ (bins + 1 - k) if reverse else k }}
        {%- endfor %}
        else {{ 1 if reverse else bins }}
    end
{%- endmacro %}


{#- Weighted RFM score w_r*R + w_f*F + w_m*M (var rfm_weights), computed in exact decimal arithmetic
    and stored with a fixed scale, so equal scores compare equal whatever the combination of R, F, M. -#}
{% macro segmentation_rfm_weighted(r_score, f_score, m_score) -%}
    {%- set weights = var('rfm_weights') -%}
    cast(
        {{ weights['r'] }} * {{ r_score }}
        + {{ weights['f'] }} * {{ f_score }}
        + {{ weights['m'] }} * {{ m_score }}
        as decimal(18, 6)
    )
{%- endmacro %}


{#- Select-list items: the two churn-risk cut-offs of the weighted score (var churn_risk_percentiles). -#}
{% macro segmentation_churn_thresholds(weighted) -%}
    {%- set pct = var('churn_risk_percentiles') -%}
    {%- if pct | length != 2 or pct[0] > pct[1] -%}
        {{ exceptions.raise_compiler_error("var churn_risk_percentiles must be two ascending fractions, got " ~ pct) }}
    {%- endif -%}
        percentile_cont({{ pct[0] }}) within group (
            order by cast({{ weighted }} as {{ type_double() }})
        ) as churn_cutoff_high_risk,
        percentile_cont({{ pct[1] }}) within group (
            order by cast({{ weighted }} as {{ type_double() }})
        ) as churn_cutoff_low_risk
{%- endmacro %}


{#- high when the weighted score is <= its lower percentile, low when > its upper one, else medium.
    Reads the columns churn_cutoff_high_risk / churn_cutoff_low_risk of segmentation_churn_thresholds. -#}
{% macro segmentation_churn_risk(weighted) -%}
    case
        when {{ weighted }} <= churn_cutoff_high_risk then 'high'
        when {{ weighted }} > churn_cutoff_low_risk then 'low'
        else 'medium'
    end
{%- endmacro %}


{#- Position of a score on the classic 1..5 grid of the rfm_segments seed, for any rfm_bins:
    1 + ceil(4 * (score - min) / (max - min)). R spans 1..n; the combined F+M score spans 2..2n. -#}
{% macro segmentation_rfm_grid_r(r_score) -%}
    {%- set bins = segmentation_rfm_bins() -%}
    cast(1 + ceil(4.0 * ({{ r_score }} - 1) / {{ bins - 1 }}) as integer)
{%- endmacro %}

{% macro segmentation_rfm_grid_fm(f_score, m_score) -%}
    {%- set bins = segmentation_rfm_bins() -%}
    cast(1 + ceil(4.0 * ({{ f_score }} + {{ m_score }} - 2) / {{ 2 * bins - 2 }}) as integer)
{%- endmacro %}


{#- ABC class from the cumulative monetary share of the customers ranked before this one
    (var abc_thresholds): A below the first cut-off, B below the second, else C. -#}
{% macro segmentation_abc_class(share_before) -%}
    {%- set cut = var('abc_thresholds') -%}
    {%- if cut | length != 2 or cut[0] > cut[1] -%}
        {{ exceptions.raise_compiler_error("var abc_thresholds must be two ascending fractions, got " ~ cut) }}
    {%- endif -%}
    case
        when {{ share_before }} < {{ cut[0] }} then 'A'
        when {{ share_before }} < {{ cut[1] }} then 'B'
        else 'C'
    end
{%- endmacro %}


{#- Coefficient of variation of a customer's spend over n periods (zero periods included) from
    the sum and the sum of squares of the per-period spend: stddev_pop / mean
    = sqrt(n * sum_sq - sum^2) / sum. The radicand is exact in decimal arithmetic.
    Null for a single period or when nothing was spent. -#}
{% macro segmentation_cv(n_periods, total, sum_sq) -%}
    case
        when {{ n_periods }} > 1 and {{ total }} > 0
            then sqrt(cast({{ n_periods }} * {{ sum_sq }} - {{ total }} * {{ total }} as {{ type_double() }}))
                / cast({{ total }} as {{ type_double() }})
    end
{%- endmacro %}


{#- XYZ class (var xyz_thresholds): one period -> 'Single Purchase'; cv <= first cut-off -> X,
    <= second -> Y, else Z (also Z when the cv is undefined because nothing was spent). -#}
{% macro segmentation_xyz_class(cv, n_periods) -%}
    {%- set cut = var('xyz_thresholds') -%}
    {%- if cut | length != 2 or cut[0] > cut[1] -%}
        {{ exceptions.raise_compiler_error("var xyz_thresholds must be two ascending numbers, got " ~ cut) }}
    {%- endif -%}
    case
        when {{ n_periods }} = 1 then 'Single Purchase'
        when {{ cv }} <= {{ cut[0] }} then 'X'
        when {{ cv }} <= {{ cut[1] }} then 'Y'
        else 'Z'
    end
{%- endmacro %}


{#- Start of the xyz_period (var xyz_period: week, month, quarter, year) holding a date, as a date. -#}
{% macro segmentation_xyz_period_start(date_expr) -%}
    cast({{ dbt.date_trunc(var('xyz_period'), date_expr) }} as date)
{%- endmacro %}
