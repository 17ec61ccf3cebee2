-- H06 · Purchases rise in the sales / holiday season. Grain: calendar day.
-- The season (var hypothesis_season_months, consecutive months within one year, at most 4) is compared with as
-- many months just before and just after it: a symmetric baseline cancels a steady growth trend, which a
-- comparison with "the rest of the year" would take for seasonality. Only seasons whose whole window
-- (baseline before, season, baseline after) lies inside the data count; days without a purchase count 0.
-- Difference in mean purchases per day (Welch), Cohen's d.
{%- set season_months = var('hypothesis_season_months') | sort -%}
{%- set first_month = season_months[0] -%}
{%- set season_length = season_months | length -%}
{%- if season_months[-1] - first_month + 1 != season_length or season_length > 4 -%}
    {{ exceptions.raise_compiler_error('var hypothesis_season_months must be 1 to 4 consecutive months of one year, got ' ~ season_months) }}
{%- endif -%}
{%- set season_label = 'months ' ~ season_months | join(', ') -%}
{%- set baseline_label = season_length ~ ' months before and after' %}

with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

day_offsets as (

    -- as many days as the cohort month spine covers months
    {{ integer_offsets(var('cohort_max_months') * 31) }}

),

data_range as (

    select
        min(purchase_date) as first_day,
        max(purchase_date) as last_day,
        min(purchase_year) as first_year,
        cast({{ dbt.date_trunc('year', 'min(purchase_date)') }} as date) as first_year_start
    from orders

),

season_years as (

    -- months from 1 January of the first year to the start of each year's season
    select distinct
        (orders.purchase_year - data_range.first_year) * 12 + {{ first_month - 1 }} as months_to_season
    from orders
    cross join data_range

),

season_windows as (

    select
        {{ add_months('data_range.first_year_start', 'season_years.months_to_season - ' ~ season_length) }} as window_start, -- noqa: LT05
        {{ add_months('data_range.first_year_start', 'season_years.months_to_season') }} as season_start,
        {{ add_months('data_range.first_year_start', 'season_years.months_to_season + ' ~ season_length) }} as season_end, -- noqa: LT05
        {{ add_months('data_range.first_year_start', 'season_years.months_to_season + ' ~ (2 * season_length)) }} as window_end -- noqa: LT05
    from season_years
    cross join data_range

),

covered_windows as (

    select season_windows.*
    from season_windows
    cross join data_range
    where season_windows.window_start >= data_range.first_day
        and season_windows.window_end <= cast({{ dbt.dateadd('day', 1, 'data_range.last_day') }} as date)

),

calendar_days as (

    select
        cast({{ dbt.dateadd('day', 'day_offsets.offset_number', 'data_range.first_day') }} as date) as calendar_day
    from data_range
    inner join day_offsets
        on day_offsets.offset_number <= {{ dbt.datediff('data_range.first_day', 'data_range.last_day', 'day') }}

),

daily_purchases as (

    select
        purchase_date,
        count(*) as purchases
    from orders
    group by purchase_date

),

units as (

    select
        case
            when calendar_days.calendar_day >= covered_windows.season_start
                and calendar_days.calendar_day < covered_windows.season_end
                then '{{ season_label }}'
            else '{{ baseline_label }}'
        end as group_label,
        coalesce(daily_purchases.purchases, 0) as value
    from calendar_days
    inner join covered_windows
        on calendar_days.calendar_day >= covered_windows.window_start
        and calendar_days.calendar_day < covered_windows.window_end
    left join daily_purchases
        on calendar_days.calendar_day = daily_purchases.purchase_date

),

{{ group_stats_cte() }},

{{ named_pair_cte(season_label, baseline_label) }},

{{ welch_ctes() }},

{{ result_cte('difference in means', 'positive', 'cohens_d', hypothesis_verdict_rule('cohens_d', 'positive')) }},

final as (

    select
        {{ hypothesis_header('H06', 'day', 'mean purchases per day in the season (' ~ season_label ~ ') minus the ' ~ baseline_label ~ ' it; only seasons the data cover whole') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
