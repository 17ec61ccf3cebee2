-- Kaplan-Meier survival of the gap between purchase days, per snapshot month and (pooled) purchase-count bucket,
-- one row per whole day of silence d = 0 .. the longest silence possible at that month end. Each month uses
-- only what was known at its as_of_date: an episode that ended by then is an event at its gap; an open episode
-- (the customer's latest purchase day) is censored at as_of_date - that day, its days of silence so far.
--   n_at_risk(d) = episodes observed for d days or more;  S(d) = prod over u <= d of (1 - events(u) / n_at_risk(u))
--   return_probability(d) = P(a purchase within H days | silent d days) = (S(d) - S(d + H)) / S(d)
-- Where fewer than var churn_min_episodes gaps are still at risk (and beyond the longest gap seen, where none
-- are) the product-limit steps say little: from that day (tail_start_days) S continues at the constant daily
-- hazard of the horizon-length stretch before it, instead of staying flat (which would claim nobody ever
-- returns after a silence longer than the history). Size: months x buckets x days (a few hundred thousand rows
-- even with 10 M orders); customers
-- join it on equality (snapshot_month, churn_bucket, gap_days = days silent), never a loop.


{%- set horizon = churn_horizon_days() %}
{%- set minimum = churn_min_episodes() %}

with

purchase_days as (

    select * from {{ ref('int_churn__purchase_days') }}

),

customer_months as (

    select * from {{ ref('int_segmentation__customer_months') }}

),

bucket_pools as (

    select * from {{ ref('int_churn__bucket_pools') }}

),

{{ segmentation_snapshot_date_ctes('customer_months') }},

day_offsets as (

    -- 0 .. the longest silence the month spine allows, plus the horizon
    select generated_number - 1 as gap_days
    from ({{ dbt.generate_series((var('snapshot_max_months') | int) * 31 + horizon + 1) }}) as series

),

event_counts as (

    -- closed episodes by bucket, gap and the month the gap closed (the next purchase)
    select
        purchase_day_bucket,
        gap_days,
        cast({{ dbt.date_trunc('month', 'next_purchase_date') }} as date) as event_month,
        count(*) as event_count
    from purchase_days
    where next_purchase_date is not null
    group by
        purchase_day_bucket,
        gap_days,
        cast({{ dbt.date_trunc('month', 'next_purchase_date') }} as date)

),

events as (

    -- a gap closed in or before the snapshot month is observed at its month end
    select
        snapshot_dates.snapshot_month,
        bucket_pools.churn_bucket,
        event_counts.gap_days,
        sum(event_counts.event_count) as event_count
    from snapshot_dates
    inner join event_counts
        on snapshot_dates.snapshot_month >= event_counts.event_month
    inner join bucket_pools
        on snapshot_dates.snapshot_month = bucket_pools.snapshot_month
        and event_counts.purchase_day_bucket = bucket_pools.purchase_day_bucket
    group by
        snapshot_dates.snapshot_month,
        bucket_pools.churn_bucket,
        event_counts.gap_days

),

open_states as (

    -- customers grouped by the span of months their state holds and their latest purchase day
    select
        purchase_month,
        valid_until_month,
        {{ churn_purchase_day_bucket('purchase_day_count') }} as purchase_day_bucket,
        last_purchase_date,
        count(*) as customer_count
    from customer_months
    group by
        purchase_month,
        valid_until_month,
        {{ churn_purchase_day_bucket('purchase_day_count') }},
        last_purchase_date

),

censored as (

    -- every customer's latest episode is open at each month end until their next purchase month
    select
        snapshot_dates.snapshot_month,
        bucket_pools.churn_bucket,
        {{ dbt.datediff('open_states.last_purchase_date', 'snapshot_dates.as_of_date', 'day') }} as gap_days, -- noqa: LT05
        sum(open_states.customer_count) as censored_count
    from snapshot_dates
    inner join open_states
        on snapshot_dates.snapshot_month >= open_states.purchase_month
        and snapshot_dates.snapshot_month < open_states.valid_until_month
    inner join bucket_pools
        on snapshot_dates.snapshot_month = bucket_pools.snapshot_month
        and open_states.purchase_day_bucket = bucket_pools.purchase_day_bucket
    group by
        snapshot_dates.snapshot_month,
        bucket_pools.churn_bucket,
        {{ dbt.datediff('open_states.last_purchase_date', 'snapshot_dates.as_of_date', 'day') }}

),

curves as (

    select distinct
        bucket_pools.snapshot_month,
        bucket_pools.as_of_date,
        bucket_pools.churn_bucket,
        bucket_pools.churn_bucket_label,
        bucket_pools.churn_bucket_episode_count,
        {{ dbt.datediff('snapshot_dates.first_month', 'bucket_pools.as_of_date', 'day') }} as max_days_silent -- noqa: LT05
    from bucket_pools
    inner join snapshot_dates
        on bucket_pools.snapshot_month = snapshot_dates.snapshot_month

),

grid as (

    select
        curves.snapshot_month,
        curves.as_of_date,
        curves.churn_bucket,
        curves.churn_bucket_label,
        curves.churn_bucket_episode_count,
        curves.max_days_silent,
        day_offsets.gap_days,
        coalesce(events.event_count, 0) as event_count,
        coalesce(censored.censored_count, 0) as censored_count
    from curves
    cross join day_offsets
    left join events
        on curves.snapshot_month = events.snapshot_month
        and curves.churn_bucket = events.churn_bucket
        and day_offsets.gap_days = events.gap_days
    left join censored
        on curves.snapshot_month = censored.snapshot_month
        and curves.churn_bucket = censored.churn_bucket
        and day_offsets.gap_days = censored.gap_days
    where day_offsets.gap_days <= curves.max_days_silent + {{ horizon }}

),

at_risk as (

    -- episodes observed for gap_days days or more: events and censorings at this day or later
    select
        grid.*,
        sum(event_count + censored_count) over (
            partition by snapshot_month, churn_bucket
            order by gap_days desc
            rows between unbounded preceding and current row
        ) as n_at_risk
    from grid

),

event_days as (

    -- the Kaplan-Meier steps, on the days with events only
    select
        snapshot_month,
        churn_bucket,
        gap_days,
        case when event_count = n_at_risk then 1 else 0 end as is_all_returned,
        case
            when event_count < n_at_risk
                then ln(1 - cast(event_count as {{ type_double() }}) / cast(n_at_risk as {{ type_double() }}))
            else 0
        end as log_factor
    from at_risk
    where event_count > 0

),

event_survival as (

    select
        snapshot_month,
        churn_bucket,
        gap_days,
        case
            when max(is_all_returned)
                    over (
                        partition by snapshot_month, churn_bucket
                        order by gap_days
                        rows between unbounded preceding and current row
                    )
                = 1 then cast(0 as {{ type_double() }})
            else exp(sum(log_factor) over (
                    partition by snapshot_month, churn_bucket
                    order by gap_days
                    rows between unbounded preceding and current row
                ))
        end as survival
    from event_days

),

last_event as (

    -- the latest event day at or before each day: S is flat in between, and copying the value (rather than
    -- re-summing zeros) keeps it bit-for-bit equal, so a flat stretch gives a return probability of exactly 0
    select
        at_risk.*,
        max(case when event_count > 0 then gap_days end) over (
            partition by snapshot_month, churn_bucket
            order by gap_days
            rows between unbounded preceding and current row
        ) as last_event_gap_days
    from at_risk

),

survival as (

    select
        last_event.*,
        coalesce(event_survival.survival, cast(1 as {{ type_double() }})) as survival
    from last_event
    left join event_survival
        on last_event.snapshot_month = event_survival.snapshot_month
        and last_event.churn_bucket = event_survival.churn_bucket
        and last_event.last_event_gap_days = event_survival.gap_days

),

tail_starts as (

    -- from the first day with fewer than var churn_min_episodes gaps still at risk, the product-limit steps rest
    -- on a handful of customers (and beyond the longest gap seen, on none): the curve continues from there at the
    -- constant daily hazard of the last horizon-length stretch before it (events / gap-days at risk)
    select
        snapshot_month,
        churn_bucket,
        min(gap_days) as tail_start_days
    from at_risk
    where gap_days >= 1
        and n_at_risk < {{ minimum }}
    group by
        snapshot_month,
        churn_bucket

),

tail_hazards as (

    select
        tail_starts.snapshot_month,
        tail_starts.churn_bucket,
        tail_starts.tail_start_days,
        case
            when sum(at_risk.n_at_risk) > 0
                then cast(sum(at_risk.event_count) as {{ type_double() }}) / sum(at_risk.n_at_risk)
            else cast(0 as {{ type_double() }})
        end as tail_hazard
    from tail_starts
    left join at_risk
        on tail_starts.snapshot_month = at_risk.snapshot_month
        and tail_starts.churn_bucket = at_risk.churn_bucket
        and at_risk.gap_days >= tail_starts.tail_start_days - {{ horizon }}
        and at_risk.gap_days >= 1
        and tail_starts.tail_start_days > at_risk.gap_days
    group by
        tail_starts.snapshot_month,
        tail_starts.churn_bucket,
        tail_starts.tail_start_days

),

extended as (

    select
        survival.*,
        survival.survival as km_survival,
        tail_hazards.tail_start_days,
        tail_hazards.tail_hazard,
        case
            when survival.gap_days >= tail_hazards.tail_start_days
                then tail_base.survival * exp(
                        -tail_hazards.tail_hazard * (survival.gap_days - tail_hazards.tail_start_days + 1)
                    )
            else survival.survival
        end as extended_survival
    from survival
    inner join tail_hazards
        on survival.snapshot_month = tail_hazards.snapshot_month
        and survival.churn_bucket = tail_hazards.churn_bucket
    inner join survival as tail_base
        on survival.snapshot_month = tail_base.snapshot_month
        and survival.churn_bucket = tail_base.churn_bucket
        and tail_base.gap_days = tail_hazards.tail_start_days - 1

),

with_horizon as (

    select
        extended.*,
        lead(extended_survival, {{ horizon }}) over (
            partition by snapshot_month, churn_bucket
            order by gap_days
        ) as survival_after_horizon
    from extended

),

final as (

    select
        snapshot_month,
        as_of_date,
        churn_bucket,
        churn_bucket_label,
        churn_bucket_episode_count,
        cast(gap_days as {{ dbt.type_int() }}) as gap_days,
        cast(n_at_risk as {{ dbt.type_bigint() }}) as n_at_risk,
        cast(event_count as {{ dbt.type_bigint() }}) as n_events,
        cast(censored_count as {{ dbt.type_bigint() }}) as n_censored,
        km_survival,
        extended_survival as survival,
        survival_after_horizon,
        case
            when extended_survival > 0 then (extended_survival - survival_after_horizon) / extended_survival
        end as return_probability,
        cast(tail_start_days as {{ dbt.type_int() }}) as tail_start_days,
        tail_hazard,
        gap_days + {{ horizon }} >= tail_start_days as is_extrapolated,
        'empirical' as churn_model
    from with_horizon
    where gap_days <= max_days_silent

)

select * from final
