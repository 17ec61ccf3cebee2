{%- set bounds = var('brazil_bounds') -%}

with

source as (

    select * from {{ source('olist', 'geolocation') }}

),

renamed as (

    select
        lpad(trim(geolocation_zip_code_prefix), 5, '0') as zip_code_prefix,
        geolocation_lat as lat,
        geolocation_lng as lng,
        upper(trim(geolocation_state)) as state
    from source

),

inside_brazil as (

    -- points outside var brazil_bounds are excluded here and counted in data_quality_exclusions
    select * from renamed
    where lat between {{ bounds.lat_min }} and {{ bounds.lat_max }}
        and lng between {{ bounds.lng_min }} and {{ bounds.lng_max }}

),

by_zip_prefix as (

    -- the export has many points per prefix: collapse to one robust point per prefix
    select
        zip_code_prefix,
        percentile_cont(0.5) within group (order by lat) as lat,
        percentile_cont(0.5) within group (order by lng) as lng,
        min(state) as state,
        count(*) as points
    from inside_brazil
    group by zip_code_prefix

),

final as (

    select * from by_zip_prefix

)

select * from final
