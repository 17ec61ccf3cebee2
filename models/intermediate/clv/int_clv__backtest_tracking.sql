-- Held-out repeat purchase days of the backtest's customers (int_clv__backtest_summary) per period of
-- var clv_time_unit_days after calibration_end: period 1 starts at calibration_end. Only periods with a
-- purchase appear; the tracking plot (clv_backtest_tracking) fills the others with zero.

with

purchase_days as (

    select * from {{ ref('int_purchases__by_customer_day') }}

),

backtest_customers as (

    select * from {{ ref('int_clv__backtest_summary') }}

),

final as (

    select
        cast(
            floor(
                cast(
                    {{ dbt.datediff('backtest_customers.calibration_end', 'purchase_days.purchase_date', 'day') }}
                    as {{ type_double() }}
                )
                / {{ var('clv_time_unit_days') }}
            ) + 1
            as {{ dbt.type_int() }}
        ) as period_index,
        count(*) as actual_purchase_days
    from purchase_days
    inner join backtest_customers
        on purchase_days.customer_unique_id = backtest_customers.customer_unique_id
    where purchase_days.purchase_date >= backtest_customers.calibration_end
    group by 1

)

select * from final
