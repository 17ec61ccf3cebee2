-- hypothesis_results holds H01..H18 once each, every one with a computed row (method filled in).

with

results as (

    select * from {{ ref('hypothesis_results') }}

),

expected_ids as (

    select 'H' || lpad(cast(offset_number + 1 as {{ dbt.type_string() }}), 2, '0') as hypothesis_id
    from ({{ integer_offsets(18) }}) as offsets

)

select
    coalesce(expected_ids.hypothesis_id, results.hypothesis_id) as hypothesis_id,
    case
        when results.hypothesis_id is null then 'missing from hypothesis_results'
        when expected_ids.hypothesis_id is null then 'unexpected hypothesis'
        else 'no computed result'
    end as problem
from expected_ids
full outer join results
    on expected_ids.hypothesis_id = results.hypothesis_id
where results.hypothesis_id is null
    or expected_ids.hypothesis_id is null
    or results.method is null
