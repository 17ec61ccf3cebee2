{#- The data-quality rule of the raw geolocation file (a row of data_quality_exclusions): zip-prefix points with no
    coordinates or outside var brazil_bounds (stg_olist__geolocation keeps one located row per prefix and counts
    the points it used). No exact-duplicate rule: the export has many points per prefix, collapsed to one. -#}

with

source_geolocation as (

    select * from {{ source('olist', 'geolocation') }}

),

geolocation as (

    select * from {{ ref('stg_olist__geolocation') }}

),

table_rows as (

    {{ quality_counts('source_geolocation') }}

),

geolocation_points_kept as (

    select coalesce(sum(points), 0) as points
    from geolocation

),

geolocation_outside_brazil as (

    select
        'geolocation_outside_brazil' as rule_name,
        'geolocation' as table_name,
        'excluded' as outcome,
        table_rows.row_count - geolocation_points_kept.points as affected_rows,
        cast(null as {{ dbt.type_numeric() }}) as affected_value,
        'Zip-prefix points with no coordinates or outside var brazil_bounds: not used for the prefix location.'
            as rule_description
    from table_rows
    cross join geolocation_points_kept

),

rules as (

    select * from geolocation_outside_brazil

),

final as (

    {{ quality_rule_rows() }}

)

select * from final
