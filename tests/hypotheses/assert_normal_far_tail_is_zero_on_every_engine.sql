{#- The far tail of the normal macros is 0 (or 1) on every engine, not an error: PostgreSQL raises "value out of
    range: underflow" where exp() underflows (it did at 1 M orders in three hypothesis marts), DuckDB and Spark
    return 0. A row is returned for every z whose two-sided p-value or CDF is not the stated value. -#}

with

grid as (

    select
        cast(40 as {{ type_double() }}) as z,
        cast(0 as {{ type_double() }}) as expected_p,
        cast(1 as {{ type_double() }}) as expected_cdf
    union all
    select
        cast(-60 as {{ type_double() }}),
        cast(0 as {{ type_double() }}),
        cast(0 as {{ type_double() }})
    union all
    select
        cast(1000 as {{ type_double() }}),
        cast(0 as {{ type_double() }}),
        cast(1 as {{ type_double() }})

),

final as (

    select
        z,
        {{ normal_two_sided_p('z') }} as p_value,
        {{ normal_cdf('z') }} as cdf
    from grid
    where
        {{ normal_two_sided_p('z') }} <> expected_p
        or {{ normal_cdf('z') }} <> expected_cdf

)

select * from final
