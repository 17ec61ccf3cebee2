-- The rfm_segments seed names all 25 cells of the 5 x 5 grid, and each name has one description.
select
    'cells' as problem,
    count(*) as found
from {{ ref('rfm_segments') }}
having count(*) <> 25 or count(distinct {{ dbt.concat(['r_grid', "'-'", 'fm_grid']) }}) <> 25

union all

select
    rfm_segment as problem,
    count(distinct description) as found
from {{ ref('rfm_segments') }}
group by rfm_segment
having count(distinct description) <> 1
