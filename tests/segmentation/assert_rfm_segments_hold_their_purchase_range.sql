-- Every customer of customer_rfm and of every segment_snapshots month lies inside the purchase-count range and
-- the recency rows its rfm_segment declares in the rfm_segments seed (so the seed's description is true of
-- them), and the segments whose names promise repeat buying (Champions, Loyal, At Risk, Cannot Lose Them)
-- declare at least two purchases.
with

segment_map as (

    select * from {{ ref('rfm_segments') }}

),

labelled as (

    select
        'customer_rfm' as relation_name,
        rfm_segment,
        frequency,
        r_grid
    from {{ ref('customer_rfm') }}

    union all

    select
        'segment_snapshots' as relation_name,
        rfm_segment,
        frequency,
        r_grid
    from {{ ref('segment_snapshots') }}

),

violations as (

    select
        labelled.relation_name,
        coalesce(labelled.rfm_segment, '(none)') as rfm_segment,
        count(*) as customers
    from labelled
    left join segment_map
        on labelled.rfm_segment = segment_map.rfm_segment
    where segment_map.rfm_segment is null
        or labelled.frequency < segment_map.min_purchases
        or labelled.frequency > segment_map.max_purchases
        or labelled.r_grid < segment_map.min_r_grid
        or labelled.r_grid > segment_map.max_r_grid
    group by
        labelled.relation_name,
        coalesce(labelled.rfm_segment, '(none)')

)

select
    relation_name as problem,
    rfm_segment,
    customers
from violations

union all

select
    'repeat-buying name declares fewer than two purchases' as problem,
    rfm_segment,
    min_purchases as customers
from segment_map
where rfm_segment in ('Champions', 'Loyal', 'At Risk', 'Cannot Lose Them')
    and min_purchases < 2
