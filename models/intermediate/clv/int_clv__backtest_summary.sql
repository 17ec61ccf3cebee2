-- The backtest split of the lifetime-value models: purchase days before calibration_end calibrate, days from
-- calibration_end up to the analysis date are held out. calibration_end = var clv_backtest_calibration_end,
-- or (null) the history start plus (1 - var clv_backtest_holdout_share) of the days to the analysis date.
-- One row per customer whose first purchase day is before calibration_end, with the BTYD summary as of
-- calibration_end (same definitions as int_clv__customer_summary) and what they did in the holdout.

with

purchase_days as (

    select * from {{ ref('int_purchases__by_customer_day') }}

),

bounds as (

    select
        min(purchase_date) as history_start,
        max(analysis_date) as analysis_date
    from purchase_days

),

split as (

    select
        history_start,
        analysis_date,
        {% if var('clv_backtest_calibration_end') is none -%}
        cast({{ dbt.dateadd(
            'day',
            'cast(floor((1 - ' ~ var('clv_backtest_holdout_share') ~ ') * '
                ~ dbt.datediff('history_start', 'analysis_date', 'day') ~ ') as ' ~ dbt.type_int() ~ ')',
            'history_start'
        ) }} as date) as calibration_end
        {%- else -%}
        cast('{{ var("clv_backtest_calibration_end") }}' as date) as calibration_end
        {%- endif %}
    from bounds

),

days_split as (

    select
        purchase_days.customer_unique_id,
        purchase_days.purchase_date,
        purchase_days.purchase_value,
        split.calibration_end,
        split.analysis_date,
        purchase_days.purchase_date < split.calibration_end as is_calibration,
        min(purchase_days.purchase_date) over (partition by purchase_days.customer_unique_id) as first_purchase_date
    from purchase_days
    cross join split

),

final as (

    select
        customer_unique_id,
        first_purchase_date,
        max(calibration_end) as calibration_end,
        max(analysis_date) as holdout_end,
        cast(sum(case when is_calibration then 1 else 0 end) - 1 as {{ dbt.type_bigint() }}) as btyd_frequency,
        cast(
            {{ dbt.datediff('first_purchase_date', 'max(case when is_calibration then purchase_date end)', 'day') }}
            as {{ type_double() }}
        ) / {{ var('clv_time_unit_days') }} as btyd_recency,
        cast(
            {{ dbt.datediff('first_purchase_date', 'max(calibration_end)', 'day') }}
            as {{ type_double() }}
        ) / {{ var('clv_time_unit_days') }} as btyd_t,
        case
            when sum(case when is_calibration then 1 else 0 end) > 1
                then cast(sum(
                        case when is_calibration and purchase_date > first_purchase_date then purchase_value end
                    ) as {{ type_double() }}) / (sum(case when is_calibration then 1 else 0 end) - 1)
        end as btyd_monetary_value,
        cast(sum(case when is_calibration then 0 else 1 end) as {{ dbt.type_bigint() }}) as holdout_purchase_days,
        coalesce(sum(case when is_calibration then 0 else purchase_value end), 0) as holdout_value
    from days_split
    where first_purchase_date < calibration_end
    group by
        customer_unique_id,
        first_purchase_date

)

select * from final
