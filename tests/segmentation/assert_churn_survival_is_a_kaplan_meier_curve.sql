-- Structural checks of int_churn__gap_survival that a wrong estimator would break: S(0) = 1 (no gap is 0 days:
-- same-day orders are one purchase day), S never rises, before the tail S drops exactly on the days with events
-- and equals the product-limit curve, in the tail it falls by exactly exp(-tail_hazard) a day, at day 0 every
-- episode of the pool is at risk, and the censored customers of a month are exactly that month's snapshot.
with

survival as (

    select * from {{ ref('int_churn__gap_survival') }}

),

snapshots as (

    select * from {{ ref('segment_snapshots') }}

),

steps as (

    select
        snapshot_month,
        churn_bucket,
        gap_days,
        survival,
        km_survival,
        tail_start_days,
        tail_hazard,
        n_events,
        n_at_risk,
        churn_bucket_episode_count,
        lag(survival) over (partition by snapshot_month, churn_bucket order by gap_days) as previous_survival
    from survival

),

step_problems as (

    select
        snapshot_month,
        churn_bucket,
        gap_days,
        'survival step' as problem
    from steps
    where (gap_days = 0 and (survival <> 1 or n_events <> 0 or n_at_risk <> churn_bucket_episode_count))
        or (gap_days > 0 and survival > previous_survival + 1e-12)
        or (gap_days < tail_start_days and survival <> km_survival)
        or (gap_days < tail_start_days and gap_days > 0 and n_events = 0 and survival <> previous_survival)
        or (gap_days < tail_start_days and gap_days > 0 and n_events > 0 and survival >= previous_survival)
        or (gap_days >= tail_start_days and abs(survival - previous_survival * exp(-tail_hazard)) > 1e-12)
        or (gap_days >= tail_start_days and n_at_risk >= {{ churn_min_episodes() }})
        or (gap_days = tail_start_days - 1 and n_at_risk < {{ churn_min_episodes() }} and gap_days > 0)

),

censored_per_month as (

    select
        snapshot_month,
        sum(n_censored) as censored
    from survival
    group by snapshot_month

),

snapshot_sizes as (

    select
        snapshot_month,
        count(*) as customers
    from snapshots
    group by snapshot_month

),

size_problems as (

    select
        snapshot_sizes.snapshot_month,
        cast(null as {{ dbt.type_int() }}) as churn_bucket,
        cast(null as {{ dbt.type_int() }}) as gap_days,
        'censored <> snapshot size' as problem
    from snapshot_sizes
    left join censored_per_month
        on snapshot_sizes.snapshot_month = censored_per_month.snapshot_month
    where coalesce(censored_per_month.censored, -1) <> snapshot_sizes.customers

)

select * from step_problems
union all
select * from size_problems
