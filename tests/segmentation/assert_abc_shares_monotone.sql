-- ABC: walking customers by monetary desc (ties by id), share_before never decreases, grows by exactly
-- the previous customer's share, and the class never goes back (A before B before C).
with

ranked as (

    select
        customer_unique_id,
        abc_class,
        monetary_share,
        share_before,
        lag(share_before) over (order by monetary desc, customer_unique_id asc) as previous_share_before,
        lag(monetary_share) over (order by monetary desc, customer_unique_id asc) as previous_share,
        lag(abc_class) over (order by monetary desc, customer_unique_id asc) as previous_class,
        row_number() over (order by monetary desc, customer_unique_id asc) as row_num
    from {{ ref('customer_abc_xyz') }}

)

select *
from ranked
where (row_num = 1 and (share_before <> 0 or abc_class <> 'A'))
    or share_before < previous_share_before
    or abs(share_before - (previous_share_before + previous_share)) > 1e-9
    or abc_class < previous_class
