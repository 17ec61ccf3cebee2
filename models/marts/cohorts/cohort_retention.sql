{%- set all_states = var('cohort_all_states_label') -%}

with

customer_months as (

    select * from {{ ref('int_cohorts__customer_months') }}

),

month_offsets as (

    {{ integer_offsets(var('cohort_max_months')) }}

),

data_end as (

    -- the spine runs to the month holding the last day before the analysis date (with the default analysis
    -- date: the month of the latest purchase), the same last month as segment_snapshots
    select
        max(analysis_date) as analysis_date,
        {{ month_start(dbt.dateadd('day', -1, 'max(analysis_date)')) }} as last_month
    from customer_months

),

cohort_members as (

    select
        customer_unique_id,
        cohort_month,
        first_purchase_state
    from customer_months
    where months_since_first = 0

),

cohorts as (

    -- one row per (cohort, state at first purchase) that has members, plus the all-states row of every cohort
    select
        cohort_month,
        first_purchase_state,
        false as is_all_states,
        count(*) as cohort_size
    from cohort_members
    group by
        cohort_month,
        first_purchase_state

    union all

    select
        cohort_month,
        '{{ all_states }}' as first_purchase_state,
        true as is_all_states,
        count(*) as cohort_size
    from cohort_members
    group by cohort_month

),

activity as (

    select
        cohort_month,
        months_since_first,
        first_purchase_state,
        count(*) as active_customers,
        sum(revenue) as revenue
    from customer_months
    group by
        cohort_month,
        months_since_first,
        first_purchase_state

    union all

    select
        cohort_month,
        months_since_first,
        '{{ all_states }}' as first_purchase_state,
        count(*) as active_customers,
        sum(revenue) as revenue
    from customer_months
    group by
        cohort_month,
        months_since_first

),

spine as (

    -- every cohort gets every month from 0 to the last month before the analysis date, active or not
    select
        cohorts.cohort_month,
        cohorts.first_purchase_state,
        cohorts.is_all_states,
        cohorts.cohort_size,
        data_end.analysis_date,
        month_offsets.offset_number as months_since_first
    from cohorts
    cross join data_end
    inner join month_offsets
        on month_offsets.offset_number <= {{ calendar_month_diff('cohorts.cohort_month', 'data_end.last_month') }}

),

filled as (

    select
        spine.cohort_month,
        spine.months_since_first,
        {{ add_months('spine.cohort_month', 'spine.months_since_first') }} as activity_month,
        spine.first_purchase_state,
        spine.is_all_states,
        spine.cohort_size,
        spine.analysis_date,
        coalesce(activity.active_customers, 0) as active_customers,
        -- money keeps two decimals on every engine (PostgreSQL's sum of numeric has no fixed scale)
        cast(coalesce(activity.revenue, 0) as decimal(38, 2)) as revenue
    from spine
    left join activity
        on spine.cohort_month = activity.cohort_month
        and spine.months_since_first = activity.months_since_first
        and spine.first_purchase_state = activity.first_purchase_state

),

final as (

    select
        cohort_month,
        months_since_first,
        activity_month,
        first_purchase_state,
        is_all_states,
        cohort_size,
        active_customers,
        cast(active_customers as {{ type_double() }}) / cohort_size as retention_rate,
        revenue,
        cast(revenue as {{ type_double() }}) / cohort_size as revenue_per_cohort_customer,
        cast(
            sum(revenue) over (
                partition by cohort_month, first_purchase_state
                order by months_since_first
                rows between unbounded preceding and current row
            ) as {{ type_double() }}
        ) / cohort_size as cumulative_revenue_per_cohort_customer,
        -- the whole calendar month lies before the analysis date; false for the month the analysis date cuts
        -- (its purchases are only those up to the analysis date, so its retention is not comparable)
        {{ add_months('activity_month', 1) }} <= analysis_date as is_complete_period,
        analysis_date
    from filled

)

select * from final
