{%- set all_states = var('cohort_all_states_label') -%}

with

customer_months as (

    select * from {{ ref('int_cohorts__customer_months') }}

),

month_offsets as (

    {{ integer_offsets(var('cohort_max_months')) }}

),

data_end as (

    select max(activity_month) as last_month
    from customer_months

),

cohort_members as (

    select
        customer_unique_id,
        cohort_month,
        customer_state
    from customer_months
    where months_since_first = 0

),

cohorts as (

    -- one row per (cohort, state) that has members, plus the all-states row of every cohort
    select
        cohort_month,
        customer_state,
        count(*) as cohort_size
    from cohort_members
    group by
        cohort_month,
        customer_state

    union all

    select
        cohort_month,
        '{{ all_states }}' as customer_state,
        count(*) as cohort_size
    from cohort_members
    group by cohort_month

),

activity as (

    select
        cohort_month,
        months_since_first,
        customer_state,
        count(*) as active_customers,
        sum(revenue) as revenue
    from customer_months
    group by
        cohort_month,
        months_since_first,
        customer_state

    union all

    select
        cohort_month,
        months_since_first,
        '{{ all_states }}' as customer_state,
        count(*) as active_customers,
        sum(revenue) as revenue
    from customer_months
    group by
        cohort_month,
        months_since_first

),

spine as (

    -- every cohort gets every month from 0 to the last month of data, active or not
    select
        cohorts.cohort_month,
        cohorts.customer_state,
        cohorts.cohort_size,
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
        spine.customer_state,
        spine.cohort_size,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.revenue, 0) as revenue
    from spine
    left join activity
        on spine.cohort_month = activity.cohort_month
        and spine.months_since_first = activity.months_since_first
        and spine.customer_state = activity.customer_state

),

final as (

    select
        cohort_month,
        months_since_first,
        activity_month,
        customer_state,
        cohort_size,
        active_customers,
        cast(active_customers as {{ type_double() }}) / cohort_size as retention_rate,
        revenue,
        cast(revenue as {{ type_double() }}) / cohort_size as revenue_per_cohort_customer,
        cast(
            sum(revenue) over (
                partition by cohort_month, customer_state
                order by months_since_first
                rows between unbounded preceding and current row
            ) as {{ type_double() }}
        ) / cohort_size as cumulative_revenue_per_cohort_customer
    from filled

)

select * from final
