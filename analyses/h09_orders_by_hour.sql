-- H09 · Most orders are placed at certain hours. Grain: purchase order.
-- Detail rows of the model hypothesis_h09_orders_by_hour: every window of the claimed window's length within the
-- day (var hypothesis_daytime_hours), its purchases and share, flagged for the claimed window (group_a) and the
-- busiest other window (group_b). Its result row, the Holm-adjusted p-value and the verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H09'
{%- set first_hour, last_hour = var('hypothesis_peak_hours')[0], var('hypothesis_peak_hours')[1] -%}
{%- set day_first, day_last = var('hypothesis_daytime_hours')[0], var('hypothesis_daytime_hours')[1] -%}
{%- set window_hours = last_hour - first_hour + 1 %}

with

result as (

    select * from {{ ref('hypothesis_h09_orders_by_hour') }}

),

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

windows as (

    select
        hour_offsets.offset_number as window_start,
        coalesce(sum(hourly_purchases.purchases), 0) as n_units
    from hour_offsets
    left join hourly_purchases
        on hour_offsets.offset_number <= hourly_purchases.purchase_hour
        and hour_offsets.offset_number + {{ window_hours - 1 }} >= hourly_purchases.purchase_hour
    where hour_offsets.offset_number between {{ day_first }} and {{ day_last - window_hours + 1 }}
    group by hour_offsets.offset_number

),

labelled as (

    select
        {{ dbt.concat([
            "'hours '", "cast(window_start as " ~ dbt.type_string() ~ ")",
            "'-'", "cast(window_start + " ~ (window_hours - 1) ~ " as " ~ dbt.type_string() ~ ")"
        ]) }} as group_label,
        window_start,
        n_units
    from windows

),

final as (

    select
        labelled.window_start,
        labelled.group_label,
        labelled.n_units,
        cast(labelled.n_units as {{ type_double() }}) / (select count(*) from orders) as share,
        labelled.window_start = {{ first_hour }} as is_in_claimed_set,
        coalesce(labelled.group_label in (result.group_a, result.group_b), false) as is_compared
    from labelled
    cross join result

)

select * from final
order by window_start
