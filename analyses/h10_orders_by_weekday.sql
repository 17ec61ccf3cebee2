-- H10 · Most orders are placed on certain weekdays. Grain: purchase order.
-- Detail rows of the model hypothesis_h10_orders_by_weekday: purchases and share per weekday, flagged for the
-- busiest and quietest weekday it compares. Its result row, the Holm-adjusted p-value and the verdict:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H10'

with

result as (

    select * from {{ ref('hypothesis_h10_orders_by_weekday') }}

),

orders as (

    select * from {{ ref('int_hypotheses__orders') }}

),

weekday_purchases as (

    select
        {{ iso_day_name('purchase_iso_weekday') }} as group_label,
        count(*) as n_units
    from orders
    group by {{ iso_day_name('purchase_iso_weekday') }}

),

final as (

    select
        weekday_purchases.group_label,
        weekday_purchases.n_units,
        cast(weekday_purchases.n_units as {{ type_double() }}) / sum(weekday_purchases.n_units) over () as share,
        weekday_purchases.group_label in (result.group_a, result.group_b) as is_compared
    from weekday_purchases
    cross join result

)

select * from final
order by group_label
