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
{% macro segmentation_quantile_thresholds(metric, prefix, bins=none) -%}
    {%- set bins = bins or segmentation_rfm_bins() -%}
    {%- for k in range(1, bins) %}
        percentile_cont({{ k / bins }}) within group (
            order by cast({{ metric }} as {{ type_double() }})
        ) as {{ prefix }}_{{ k }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- CTEs <name>_value_counts, <name>_positions, <name>_bounds and <name>: one row per group_column with
    columns[i] = percentile_cont(fractions[i]) within group (order by metric), the same value, computed from the
    count of each distinct value instead of an ordered aggregate. An ordered aggregate holds every row of a group
    in memory and cannot spill: on segment_snapshots (90 M customer-months at 10 M orders) it ran DuckDB out of
    memory at a 4 GB cap. Distinct values are ~40x fewer (recency, frequency and the weighted score are small
    integers or grid values). percentile_cont(f) of n sorted values x_0..x_{n-1}: with h = (n - 1) * f,
    x_floor(h) + (h - floor(h)) * (x_floor(h)+1 - x_floor(h)); x_j is the value whose run of equal values covers
    position j. tests/segmentation/assert_grouped_percentiles_match_percentile_cont.sql compares the two.
    The caller ends the CTE before with a comma. -#}
{% macro segmentation_grouped_percentile_ctes(name, relation, group_column, metric, fractions, columns) -%}
{{ name }}_value_counts as (

    select
        {{ group_column }},
        cast({{ metric }} as {{ type_double() }}) as value,
        count(*) as value_count
    from {{ relation }}
    group by
        {{ group_column }},
        cast({{ metric }} as {{ type_double() }})

),

{{ name }}_positions as (

    select
        {{ group_column }},
        value,
        value_count,
        cast(
            sum(value_count) over (
                partition by {{ group_column }}
                order by value
                rows between unbounded preceding and current row
            ) - value_count
            as {{ dbt.type_bigint() }}
        ) as rows_before,
        cast(sum(value_count) over (partition by {{ group_column }}) as {{ dbt.type_bigint() }}) as group_rows
    from {{ name }}_value_counts

),

{{ name }}_bounds as (

    select
        {{ group_column }},
        {%- for fraction in fractions %}
        max(cast(group_rows - 1 as {{ type_double() }}) * {{ fraction }}) as rank_{{ loop.index }},
        max(
            case
                when floor(cast(group_rows - 1 as {{ type_double() }}) * {{ fraction }}) >= rows_before
                    and floor(cast(group_rows - 1 as {{ type_double() }}) * {{ fraction }}) < rows_before + value_count
                    then value
            end
        ) as lower_{{ loop.index }},
        max(
            case
                when floor(cast(group_rows - 1 as {{ type_double() }}) * {{ fraction }}) + 1 >= rows_before
                    and floor(cast(group_rows - 1 as {{ type_double() }}) * {{ fraction }}) + 1 < rows_before + value_count
                    then value
            end
        ) as upper_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ name }}_positions
    group by {{ group_column }}

),

{{ name }} as (

    select
        {{ group_column }},
        {%- for column in columns %}
        lower_{{ loop.index }}
            + (rank_{{ loop.index }} - floor(rank_{{ loop.index }}))
            * (coalesce(upper_{{ loop.index }}, lower_{{ loop.index }}) - lower_{{ loop.index }})
            as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ name }}_bounds

)
{%- endmacro %}


{#- segmentation_grouped_percentile_ctes for the rfm_bins - 1 thresholds <prefix>_1 .. <prefix>_<n-1> of a
    metric (same values as segmentation_quantile_thresholds, per group). -#}
{% macro segmentation_grouped_quantile_threshold_ctes(name, relation, group_column, metric, prefix, bins=none) -%}
    {%- set bins = bins or segmentation_rfm_bins() -%}
    {%- set fractions = [] -%}
    {%- set columns = [] -%}
    {%- for k in range(1, bins) -%}
        {%- do fractions.append(k / bins) -%}
        {%- do columns.append(prefix ~ '_' ~ k) -%}
    {%- endfor -%}
    {{ segmentation_grouped_percentile_ctes(name, relation, group_column, metric, fractions, columns) }}
{%- endmacro %}


{#- segmentation_grouped_percentile_ctes for the rfm_tier cut-offs of segmentation_rfm_tier_thresholds, per group. -#}
{% macro segmentation_grouped_rfm_tier_threshold_ctes(name, relation, group_column, weighted) -%}
    {%- set pct = var('rfm_tier_percentiles') -%}
    {%- if pct | length != 2 or pct[0] > pct[1] -%}
        {{ exceptions.raise_compiler_error("var rfm_tier_percentiles must be two ascending fractions, got " ~ pct) }}
    {%- endif -%}
    {{ segmentation_grouped_percentile_ctes(
        name, relation, group_column, weighted, pct, ['rfm_tier_cutoff_high', 'rfm_tier_cutoff_low']
    ) }}
{%- endmacro %}


{#- Score 1..n from the thresholds of segmentation_quantile_thresholds: value <= <prefix>_1 -> 1, ...,
    above <prefix>_<n-1> -> n. reverse=true flips it (recency: the smallest value scores n).
    Ties share a score by construction. -#}
{% macro segmentation_quantile_score(metric, prefix, reverse=false, bins=none) -%}
    {%- set bins = bins or segmentation_rfm_bins() -%}
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


{#- Select-list items: the two rfm_tier cut-offs of the weighted score (var rfm_tier_percentiles). -#}
{% macro segmentation_rfm_tier_thresholds(weighted) -%}
    {%- set pct = var('rfm_tier_percentiles') -%}
    {%- if pct | length != 2 or pct[0] > pct[1] -%}
        {{ exceptions.raise_compiler_error("var rfm_tier_percentiles must be two ascending fractions, got " ~ pct) }}
    {%- endif -%}
        percentile_cont({{ pct[0] }}) within group (
            order by cast({{ weighted }} as {{ type_double() }})
        ) as rfm_tier_cutoff_high,
        percentile_cont({{ pct[1] }}) within group (
            order by cast({{ weighted }} as {{ type_double() }})
        ) as rfm_tier_cutoff_low
{%- endmacro %}


{#- rfm_tier: high when the weighted score is <= its lower percentile, low when > its upper one, else medium.
    Relative by construction: about rfm_tier_percentiles[0] of the customers of a date are 'high' whatever
    their absolute chance of buying again (that is churn_risk, macros/churn.sql).
    Reads the columns rfm_tier_cutoff_high / rfm_tier_cutoff_low of segmentation_rfm_tier_thresholds. -#}
{% macro segmentation_rfm_tier(weighted) -%}
    case
        when {{ weighted }} <= rfm_tier_cutoff_high then 'high'
        when {{ weighted }} > rfm_tier_cutoff_low then 'low'
        else 'medium'
    end
{%- endmacro %}


{#- var rfm_frequency_score, validated: count (default: F = the number of purchases, capped at rfm_bins, so
    1 / 2 / 3 / 4+ purchases score 1..4 with 4 bins) or quantile (F from the percentile_cont(k/n) cut-offs of
    frequency like R and M; with mostly one-time buyers every cut-off is 1 and F takes two values). -#}
{% macro segmentation_rfm_frequency_score_mode() -%}
    {%- set mode = var('rfm_frequency_score', 'count') | string | trim | lower -%}
    {%- if mode not in ('count', 'quantile') -%}
        {{ exceptions.raise_compiler_error("var rfm_frequency_score must be count or quantile, got " ~ var('rfm_frequency_score')) }}
    {%- endif -%}
    {{ return(mode) }}
{%- endmacro %}


{#- F score as a SQL expression: least(frequency, rfm_bins) in count mode; in quantile mode the score from the
    <prefix>_1 .. <prefix>_<n-1> thresholds of segmentation_quantile_thresholds (the caller provides them). -#}
{% macro segmentation_frequency_score(frequency, prefix) -%}
    {%- if segmentation_rfm_frequency_score_mode() == 'count' -%}
        cast(least({{ frequency }}, {{ segmentation_rfm_bins() }}) as integer)
    {%- else -%}
        {{ segmentation_quantile_score(frequency, prefix) }}
    {%- endif -%}
{%- endmacro %}


{#- The rows of the recency axis of the rfm_segments seed (min_r_grid .. max_r_grid span 1..5; the singular
    test assert_rfm_segments_tile_the_grid checks the seed). r_grid is the recency quintile, whatever rfm_bins:
    4 R scores cannot reach 5 rows (1 + ceil(4 (r - 1) / 3) skipped row 2, so one-time buyers never landed in
    it). With rfm_bins = 5, r_grid = r_score. -#}
{% macro segmentation_rfm_grid_rows() -%}
    {{ return(5) }}
{%- endmacro %}


{#- CTE rfm_segment_cells (the caller ends the CTE before with a comma): one row per r_grid 1..5 and purchase
    count 1..K with its rfm_segment and description, K = 1 + the largest finite max_purchases of the seed, so
    a customer's segment is an equality join on (r_grid, least(frequency, K)) instead of a range join per
    customer (segment_snapshots holds customers x months rows). seed: the rfm_segments relation. -#}
{% macro segmentation_rfm_segment_cells_cte(seed) -%}
rfm_segment_cell_bounds as (

    select coalesce(max(max_purchases), 0) + 1 as purchase_cap
    from {{ seed }}

),

rfm_segment_cell_r_grids as (

    select cast(generated_number as integer) as r_grid
    from ({{ dbt.generate_series(segmentation_rfm_grid_rows()) }}) as series

),

rfm_segment_cell_purchases as (

    -- 1 .. 1000: the seed's finite purchase bounds stay below (assert_rfm_segments_tile_the_grid)
    select cast(generated_number as integer) as purchases_capped
    from ({{ dbt.generate_series(1000) }}) as series

),

rfm_segment_cells as (

    select
        rfm_segment_cell_r_grids.r_grid,
        rfm_segment_cell_purchases.purchases_capped,
        segment_map.rfm_segment,
        segment_map.description as rfm_segment_description
    from rfm_segment_cell_r_grids
    cross join rfm_segment_cell_purchases
    cross join rfm_segment_cell_bounds
    inner join {{ seed }} as segment_map
        on rfm_segment_cell_r_grids.r_grid between segment_map.min_r_grid and segment_map.max_r_grid
        and rfm_segment_cell_purchases.purchases_capped >= segment_map.min_purchases
        and (
            segment_map.max_purchases is null
            or rfm_segment_cell_purchases.purchases_capped <= segment_map.max_purchases
        )
    where rfm_segment_cell_purchases.purchases_capped <= rfm_segment_cell_bounds.purchase_cap

)
{%- endmacro %}


{#- The purchase count a customer is looked up with in rfm_segment_cells: frequency capped at K (above). -#}
{% macro segmentation_rfm_purchases_capped(frequency) -%}
    cast(least({{ frequency }}, (select purchase_cap from rfm_segment_cell_bounds)) as integer)
{%- endmacro %}


{#- Share of the total monetary held by the customers ranked before this one, as a double (0 when the
    total is 0): the input of segmentation_abc_class. -#}
{% macro segmentation_abc_share(monetary_before, monetary_total) -%}
    cast(
        case when {{ monetary_total }} > 0 then {{ decimal_ratio('(' ~ monetary_before ~ ')', monetary_total) }} else 0 end
        as {{ type_double() }}
    )
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
    Null for fewer than two periods or when nothing was spent. -#}
{% macro segmentation_cv(n_periods, total, sum_sq) -%}
    case
        when {{ n_periods }} > 1 and {{ total }} > 0
            then sqrt(cast({{ n_periods }} * {{ sum_sq }} - {{ total }} * {{ total }} as {{ type_double() }}))
                / cast({{ total }} as {{ type_double() }})
    end
{%- endmacro %}


{#- var xyz_min_periods, validated: a customer with several purchases needs at least this many xyz periods in
    the window (first purchase period .. last complete period) for a coefficient of variation. -#}
{% macro segmentation_xyz_min_periods() -%}
    {%- set n = var('xyz_min_periods', 3) | int -%}
    {%- if n < 2 -%}
        {{ exceptions.raise_compiler_error("var xyz_min_periods must be an integer >= 2, got " ~ var('xyz_min_periods')) }}
    {%- endif -%}
    {{ return(n) }}
{%- endmacro %}


{#- Start of the last complete xyz period before a reference date (purchases before it count): the period
    before the one holding the reference date. Every day of it lies before the reference date. -#}
{% macro segmentation_xyz_last_complete_period(reference_date) -%}
    cast({{ dbt.dateadd(var('xyz_period'), -1, dbt.date_trunc(var('xyz_period'), reference_date)) }} as date)
{%- endmacro %}


{#- Number of xyz periods of the XYZ window: from the first purchase period to the last complete period,
    inclusive (0 when the first purchase falls in the current, incomplete period). -#}
{% macro segmentation_xyz_window_periods(first_period, last_complete_period) -%}
    greatest({{ dbt.datediff(first_period, last_complete_period, var('xyz_period')) }} + 1, 0)
{%- endmacro %}


{#- XYZ class (var xyz_thresholds, xyz_min_periods): exactly one purchase -> 'Single Purchase'; several
    purchases but fewer than xyz_min_periods periods in the window -> 'Short History'; else cv <= first
    cut-off -> X, <= second -> Y, else Z (also Z when the cv is undefined because nothing was spent). -#}
{% macro segmentation_xyz_class(cv, n_periods, frequency) -%}
    {%- set cut = var('xyz_thresholds') -%}
    {%- if cut | length != 2 or cut[0] > cut[1] -%}
        {{ exceptions.raise_compiler_error("var xyz_thresholds must be two ascending numbers, got " ~ cut) }}
    {%- endif -%}
    case
        when {{ frequency }} = 1 then 'Single Purchase'
        when {{ n_periods }} < {{ segmentation_xyz_min_periods() }} then 'Short History'
        when {{ cv }} <= {{ cut[0] }} then 'X'
        when {{ cv }} <= {{ cut[1] }} then 'Y'
        else 'Z'
    end
{%- endmacro %}


{#- Start of the xyz_period (var xyz_period: week, month, quarter, year) holding a date, as a date. -#}
{% macro segmentation_xyz_period_start(date_expr) -%}
    cast({{ dbt.date_trunc(var('xyz_period'), date_expr) }} as date)
{%- endmacro %}


{#- CTEs bounds, month_offsets, snapshot_months and snapshot_dates: the month spine of the monthly as-of
    snapshots, from the first purchase month of relation (columns purchase_month, analysis_date) to the month
    of the day before the analysis date. snapshot_dates has one row per snapshot_month with reference_date
    (purchases before it count: the next month's first day, or analysis_date for the last, partial month)
    and as_of_date (the day before reference_date). segment_snapshots and the churn models share it, so their
    months and as-of dates are the same. The caller ends the CTE before with a comma. -#}
{% macro segmentation_snapshot_date_ctes(relation) -%}
bounds as (

    select
        min(purchase_month) as first_month,
        cast({{ dbt.date_trunc('month', dbt.dateadd('day', -1, 'max(analysis_date)')) }} as date) as last_month,
        max(analysis_date) as analysis_date
    from {{ relation }}

),

month_offsets as (

    -- 0 .. var snapshot_max_months - 1 (a test fails if the data span more months than the spine)
    select generated_number - 1 as month_offset
    from ({{ dbt.generate_series(var('snapshot_max_months') | int) }}) as series

),

snapshot_months as (

    select
        cast({{ dbt.dateadd('month', 'month_offsets.month_offset', 'bounds.first_month') }} as date) as snapshot_month,
        bounds.first_month,
        bounds.analysis_date
    from bounds
    cross join month_offsets
    where month_offsets.month_offset <= {{ dbt.datediff('bounds.first_month', 'bounds.last_month', 'month') }}

),

snapshot_reference_dates as (

    -- purchases up to the month end count; the last, partial month stops at the analysis date
    select
        snapshot_month,
        first_month,
        least(
            cast({{ dbt.dateadd('month', 1, 'snapshot_month') }} as date),
            analysis_date
        ) as reference_date
    from snapshot_months

),

snapshot_dates as (

    select
        snapshot_month,
        first_month,
        reference_date,
        cast({{ dbt.dateadd('day', -1, 'reference_date') }} as date) as as_of_date
    from snapshot_reference_dates

)
{%- endmacro %}
