-- H09 · Most orders are placed at certain hours (the seed: 10:00-16:59). Grain: purchase order.
-- Any daytime window beats an even spread over 24 hours, so the claimed window (var hypothesis_peak_hours) is
-- compared with the other windows of the same length inside the day (var hypothesis_daytime_hours): its share
-- of purchases minus the share of the busiest other window. Windows overlap: both shares come from one
-- multinomial sample, and the standard error uses the purchases in one window but not the other. Bonferroni
-- over the other windows (the busiest one was picked); Cohen's h of the two shares.
{%- set first_hour, last_hour = var('hypothesis_peak_hours')[0], var('hypothesis_peak_hours')[1] -%}
{%- set day_first, day_last = var('hypothesis_daytime_hours')[0], var('hypothesis_daytime_hours')[1] -%}
{%- set window_hours = last_hour - first_hour + 1 -%}
{%- if not (day_first <= first_hour <= last_hour <= day_last <= 23) or day_first < 0 -%}
    {{ exceptions.raise_compiler_error('var hypothesis_peak_hours must lie within var hypothesis_daytime_hours (hours 0-23), got ' ~ var('hypothesis_peak_hours') ~ ' and ' ~ var('hypothesis_daytime_hours')) }}
{%- endif %}

with

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

hour_offsets as (

    {{ integer_offsets(24) }}

),

hourly_purchases as (

    select
        purchase_hour,
        count(*) as purchases
    from orders
    group by purchase_hour

),

totals as (

    select count(*) as n
    from orders

),

windows as (

    -- every window of {{ window_hours }} hours inside {{ day_first }}:00-{{ day_last }}:59, by its first hour
    select
        hour_offsets.offset_number as window_start,
        hour_offsets.offset_number + {{ window_hours - 1 }} as window_end,
        coalesce(sum(hourly_purchases.purchases), 0) as purchases
    from hour_offsets
    left join hourly_purchases
        on hourly_purchases.purchase_hour between hour_offsets.offset_number
        and hour_offsets.offset_number + {{ window_hours - 1 }}
    where hour_offsets.offset_number between {{ day_first }} and {{ day_last - window_hours + 1 }}
    group by hour_offsets.offset_number

),

claimed_window as (

    select * from windows
    where window_start = {{ first_hour }}

),

other_windows as (

    select
        windows.*,
        row_number() over (order by purchases desc, window_start asc) as busiest_rank,
        count(*) over () as window_count
    from windows
    where window_start <> {{ first_hour }}

),

busiest_other as (

    select * from other_windows
    where busiest_rank = 1

),

overlap as (

    -- purchases in the claimed window but not the other one, and the reverse
    select
        coalesce(sum(case
            when hourly_purchases.purchase_hour between claimed_window.window_start and claimed_window.window_end
                and not hourly_purchases.purchase_hour between busiest_other.window_start and busiest_other.window_end
                then hourly_purchases.purchases
        end), 0) as only_a,
        coalesce(sum(case
            when hourly_purchases.purchase_hour between busiest_other.window_start and busiest_other.window_end
                and not hourly_purchases.purchase_hour between claimed_window.window_start and claimed_window.window_end
                then hourly_purchases.purchases
        end), 0) as only_b
    from hourly_purchases
    cross join claimed_window
    cross join busiest_other

),

pair as (

    select
        'hours {{ first_hour }}-{{ last_hour }}' as group_a,
        claimed_window.purchases as n_a,
        cast(claimed_window.purchases as {{ type_double() }}) / nullif(totals.n, 0) as value_a,
        {{ dbt.concat([
            "'hours '", "cast(busiest_other.window_start as " ~ dbt.type_string() ~ ")",
            "'-'", "cast(busiest_other.window_end as " ~ dbt.type_string() ~ ")"
        ]) }} as group_b,
        coalesce(busiest_other.purchases, 0) as n_b,
        cast(busiest_other.purchases as {{ type_double() }}) / nullif(totals.n, 0) as value_b,
        totals.n,
        overlap.only_a,
        overlap.only_b,
        coalesce(busiest_other.window_count, 0) as comparisons,
        case
            when busiest_other.window_start is null then 'no other window of the same length within the day'
            when claimed_window.purchases < {{ var('hypothesis_min_group_size') }}
                or busiest_other.purchases < {{ var('hypothesis_min_group_size') }}
                then 'a window has fewer than hypothesis_min_group_size ({{ var('hypothesis_min_group_size') }}) purchases' -- noqa: LT05
        end as insufficient_reason
    from totals
    cross join claimed_window
    left join busiest_other
        on true
    left join overlap
        on true

),

{{ multinomial_difference_ctes() }},

{{ result_cte('window share minus busiest other window share', 'positive', 'cohens_h', hypothesis_verdict_rule('cohens_h', 'positive', ' (Bonferroni over the other windows)')) }}, -- noqa: LT05

final as (

    select
        {{ hypothesis_header('H09', 'order', 'share of purchases placed between ' ~ first_hour ~ ':00 and ' ~ last_hour ~ ':59 minus the share of the busiest other ' ~ window_hours ~ '-hour window within ' ~ day_first ~ ':00-' ~ day_last ~ ':59') }}, -- noqa: LT05
        compared.*
    from compared

)

select * from final
