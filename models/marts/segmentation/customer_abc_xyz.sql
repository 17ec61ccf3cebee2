with

purchases as (

    select * from {{ ref('int_segmentation__purchases') }}

),

segment_descriptions as (

    select * from {{ ref('abc_xyz_segments') }}

),

period_spend as (

    -- spend and purchases per customer and xyz period (var xyz_period); periods without a purchase have no row
    select
        customer_unique_id,
        xyz_period_start,
        count(*) as period_purchase_count,
        sum(payment_value) as period_monetary,
        max(analysis_date) as analysis_date
    from purchases
    group by
        customer_unique_id,
        xyz_period_start

),

period_window as (

    -- the XYZ window ends with the last complete period before the analysis date
    select
        period_spend.*,
        {{ segmentation_xyz_last_complete_period('analysis_date') }} as last_complete_period_start
    from period_spend

),

customer_periods as (

    -- window sums over the periods up to the last complete one (later spend is outside the window);
    -- the window's periods without a purchase add nothing to the sums, only to its length
    select
        customer_unique_id,
        cast(sum(period_purchase_count) as {{ dbt.type_bigint() }}) as frequency,
        sum(case when xyz_period_start <= last_complete_period_start then 1 else 0 end) as periods_active,
        {{ segmentation_xyz_window_periods('min(xyz_period_start)', 'max(last_complete_period_start)') }}
            as periods_in_window,
        sum(period_monetary) as monetary,
        sum(case when xyz_period_start <= last_complete_period_start then period_monetary else 0 end)
            as window_monetary,
        sum(
            case when xyz_period_start <= last_complete_period_start then period_monetary * period_monetary else 0 end
        ) as window_monetary_sum_sq
    from period_window
    group by customer_unique_id

),

abc_ranked as (

    -- customers by monetary desc (ties by id); the spend of everyone ranked before this customer
    select
        customer_unique_id,
        frequency,
        periods_active,
        periods_in_window,
        monetary,
        window_monetary,
        window_monetary_sum_sq,
        coalesce(
            sum(monetary) over (
                order by monetary desc, customer_unique_id asc
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as monetary_before,
        sum(monetary) over () as monetary_total
    from customer_periods

),

shares as (

    select
        customer_unique_id,
        frequency,
        periods_active,
        periods_in_window,
        monetary,
        window_monetary,
        cast(
            case when monetary_total > 0 then {{ decimal_ratio('monetary', 'monetary_total') }} else 0 end
            as {{ type_double() }}
        ) as monetary_share,
        {{ segmentation_abc_share('monetary_before', 'monetary_total') }} as share_before,
        -- stddev_pop / mean over every period from the first purchase to the last complete one, zeros
        -- included; only where the class uses it (several purchases, at least xyz_min_periods periods)
        case
            when frequency > 1 and periods_in_window >= {{ segmentation_xyz_min_periods() }}
                then {{ segmentation_cv('periods_in_window', 'window_monetary', 'window_monetary_sum_sq') }}
        end as cv
    from abc_ranked

),

classified as (

    select
        shares.*,
        {{ segmentation_abc_class('shares.share_before') }} as abc_class,
        {{ segmentation_xyz_class('shares.cv', 'shares.periods_in_window', 'shares.frequency') }} as xyz_class
    from shares

),

final as (

    select
        classified.customer_unique_id,
        classified.abc_class,
        classified.monetary,
        classified.monetary_share,
        classified.share_before,
        classified.xyz_class,
        classified.cv,
        classified.frequency,
        classified.periods_active,
        classified.periods_in_window,
        classified.window_monetary,
        segment_descriptions.segment,
        segment_descriptions.description_en as segment_description_en,
        segment_descriptions.description_ru as segment_description_ru
    from classified
    left join segment_descriptions
        on classified.abc_class = segment_descriptions.abc_class
        and classified.xyz_class = segment_descriptions.xyz_class

)

select * from final
