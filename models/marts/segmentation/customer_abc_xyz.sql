with

purchases as (

    select * from {{ ref('int_segmentation__purchases') }}

),

segment_descriptions as (

    select * from {{ ref('abc_xyz_segments') }}

),

period_spend as (

    -- spend per customer and xyz period (var xyz_period); periods without a purchase have no row
    select
        customer_unique_id,
        xyz_period_start,
        sum(payment_value) as period_monetary
    from purchases
    group by
        customer_unique_id,
        xyz_period_start

),

customer_periods as (

    select
        customer_unique_id,
        count(*) as periods_active,
        {{ dbt.datediff('min(xyz_period_start)', 'max(xyz_period_start)', var('xyz_period')) }} + 1 as periods_in_span,
        sum(period_monetary) as monetary,
        sum(period_monetary * period_monetary) as monetary_sum_sq
    from period_spend
    group by customer_unique_id

),

abc_ranked as (

    -- customers by monetary desc (ties by id); the spend of everyone ranked before this customer
    select
        customer_unique_id,
        periods_active,
        periods_in_span,
        monetary,
        monetary_sum_sq,
        coalesce(
            sum(monetary) over (
                order by monetary desc, customer_unique_id
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
        periods_active,
        periods_in_span,
        monetary,
        cast(
            case when monetary_total > 0 then monetary / monetary_total else 0 end
            as {{ type_double() }}
        ) as monetary_share,
        {{ segmentation_abc_share('monetary_before', 'monetary_total') }} as share_before,
        -- stddev_pop / mean over every period from the first to the last purchase, zeros included
        {{ segmentation_cv('periods_in_span', 'monetary', 'monetary_sum_sq') }} as cv
    from abc_ranked

),

classified as (

    select
        shares.*,
        {{ segmentation_abc_class('shares.share_before') }} as abc_class,
        {{ segmentation_xyz_class('shares.cv', 'shares.periods_in_span') }} as xyz_class
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
        classified.periods_active,
        classified.periods_in_span,
        segment_descriptions.segment,
        segment_descriptions.description_en as segment_description_en,
        segment_descriptions.description_ru as segment_description_ru
    from classified
    left join segment_descriptions
        on classified.abc_class = segment_descriptions.abc_class
        and classified.xyz_class = segment_descriptions.xyz_class

)

select * from final
