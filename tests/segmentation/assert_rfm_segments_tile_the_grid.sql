-- The rfm_segments seed tiles the grid: every recency row r_grid 1..5 (the recency quintile) and every purchase
-- count 1 .. K (K = 1 + the largest finite max_purchases: counts above K behave like K) lies in exactly one
-- segment's rectangle [min_r_grid, max_r_grid] x [min_purchases, max_purchases (null = no upper bound)], so every
-- customer gets exactly one segment; the finite bounds stay below the 1000 counts rfm_segment_cells expands.
with

segment_map as (

    select * from {{ ref('rfm_segments') }}

),

r_grids as (

    select cast(generated_number as integer) as r_grid
    from ({{ dbt.generate_series(segmentation_rfm_grid_rows()) }}) as series

),

purchase_counts as (

    select cast(series.generated_number as integer) as purchases
    from ({{ dbt.generate_series(1000) }}) as series
    where
        series.generated_number <= (
            select coalesce(max(rfm_segments.max_purchases), 0) + 1 from {{ ref('rfm_segments') }} as rfm_segments
        )

),

cell_matches as (

    select
        r_grids.r_grid,
        purchase_counts.purchases,
        count(segment_map.rfm_segment) as matching_segments
    from r_grids
    cross join purchase_counts
    left join segment_map
        on r_grids.r_grid between segment_map.min_r_grid and segment_map.max_r_grid
        and purchase_counts.purchases >= segment_map.min_purchases
        and (segment_map.max_purchases is null or purchase_counts.purchases <= segment_map.max_purchases)
    group by
        r_grids.r_grid,
        purchase_counts.purchases

)

select
    'cell r_grid '
    || cast(r_grid as {{ dbt.type_string() }})
    || ', '
    || cast(purchases as {{ dbt.type_string() }})
    || ' purchases' as problem,
    matching_segments as found
from cell_matches
where matching_segments <> 1

union all

select
    'bounds of ' || rfm_segment as problem,
    1 as found
from segment_map
where min_r_grid < 1
    or max_r_grid > {{ segmentation_rfm_grid_rows() }}
    or min_r_grid > max_r_grid
    or min_purchases < 1
    or max_purchases < min_purchases
    or max_purchases >= 999
