-- Customers, purchases and revenue by churn risk, RFM segment, ABC-XYZ segment and state, as of the
-- analysis date. Every measure is additive: roll up to any subset of the dimensions with a sum.

with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

final as (

    select
        churn_risk,
        rfm_segment,
        segment,
        abc_class,
        xyz_class,
        customer_state,
        customer_region,
        count(*) as customer_count,
        sum(frequency) as purchase_count,
        sum(monetary) as revenue
    from customer_segments
    where churn_risk is not null
    group by
        churn_risk,
        rfm_segment,
        segment,
        abc_class,
        xyz_class,
        customer_state,
        customer_region

)

select * from final
