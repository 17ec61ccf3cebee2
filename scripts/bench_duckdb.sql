-- Hand-written DuckDB script: the core outputs of the dbt project in one pass, as a lower bound
-- of what the engine can do on the same files. Run by scripts/benchmark.py, which
-- fills the ${...} placeholders from the vars in dbt_project.yml, so the rules are the same (and ${<table>_csv}
-- with the raw folder and the file name the dbt sources read, customer_segmentation.data.olist.FILES).
--
-- Outputs (tables in the target DuckDB file):
--   bench_orders            order grain: items, payments, reviews each rolled up to the order, then joined
--   bench_customer_rfm      recency / frequency / monetary, R F M scores, weighted score, rfm_tier
--   bench_customer_abc_xyz  ABC on cumulative monetary share, XYZ on the monthly coefficient of variation
--   bench_cohort_retention  (cohort_month, months_since_first, customer_state at first purchase | 'ALL') retention and revenue
--
-- Definitions are those of issues 3 and 4 (see models/marts/segmentation, models/marts/churn and models/marts/cohorts).
-- It is deliberately DuckDB-only (list quantiles, list_filter, grouping sets, range()): it is the
-- engine's best case, not portable project code. Not computed here: seller/product/geolocation
-- attributes, RFM segment names, snapshots, migration, hypotheses, ML, data tests.

set preserve_insertion_order = false;

-- 1. Read each file once (typed, like the dbt sources) and keep only what the outputs need.
--    Exact duplicate rows collapse (as in staging); values are used as read (no trim / case folding).
create or replace temp table raw_orders as
select distinct
    order_id,
    customer_id,
    order_status,
    order_purchase_timestamp as purchased_at
from read_csv('${orders_csv}', header = true, delim = ',', quote = '"', escape = '"',
    types = {'order_id': 'varchar', 'customer_id': 'varchar', 'order_status': 'varchar',
        'order_purchase_timestamp': 'timestamp', 'order_approved_at': 'timestamp',
        'order_delivered_carrier_date': 'timestamp', 'order_delivered_customer_date': 'timestamp',
        'order_estimated_delivery_date': 'timestamp'});

create or replace temp table raw_customers as
select distinct
    customer_id,
    customer_unique_id,
    customer_state
from read_csv('${customers_csv}', header = true, delim = ',', quote = '"', escape = '"',
    types = {'customer_id': 'varchar', 'customer_unique_id': 'varchar', 'customer_zip_code_prefix': 'varchar',
        'customer_city': 'varchar', 'customer_state': 'varchar'});

create or replace temp table items_by_order as
with items as (
    select distinct
        order_id,
        order_item_id,
        price,
        freight_value
    from read_csv('${order_items_csv}', header = true, delim = ',', quote = '"', escape = '"',
        types = {'order_id': 'varchar', 'order_item_id': 'integer', 'product_id': 'varchar', 'seller_id': 'varchar',
            'shipping_limit_date': 'timestamp', 'price': 'decimal(18,2)', 'freight_value': 'decimal(18,2)'})
)
select order_id, count(*) as item_count, sum(price) as items_value, sum(freight_value) as freight_value
from items
group by order_id;

create or replace temp table payments_by_order as
with payments as (
    select distinct
        order_id,
        payment_sequential,
        payment_type,
        payment_installments,
        payment_value
    from read_csv('${order_payments_csv}', header = true, delim = ',', quote = '"', escape = '"',
        types = {'order_id': 'varchar', 'payment_sequential': 'integer', 'payment_type': 'varchar',
            'payment_installments': 'integer', 'payment_value': 'decimal(18,2)'})
)
select order_id, count(*) as payment_count, sum(payment_value) as payment_value
from payments
group by order_id;

create or replace temp table reviews_by_order as
select order_id, count(*) as review_count, avg(review_score) as mean_review_score
from read_csv('${order_reviews_csv}', header = true, delim = ',', quote = '"', escape = '"',
    types = {'review_id': 'varchar', 'order_id': 'varchar', 'review_score': 'integer',
        'review_comment_title': 'varchar', 'review_comment_message': 'varchar',
        'review_creation_date': 'timestamp', 'review_answer_timestamp': 'timestamp'})
group by 1;

-- 2. Order grain (the equivalent of fct_orders for these columns).
create or replace table bench_orders as
select
    o.order_id,
    o.customer_id,
    c.customer_unique_id,
    c.customer_state,
    o.order_status,
    o.order_status not in (${excluded_statuses}) as is_purchase,
    o.purchased_at,
    coalesce(i.item_count, 0) as item_count,
    coalesce(i.items_value, 0) as items_value,
    coalesce(i.freight_value, 0) as freight_value,
    coalesce(p.payment_count, 0) as payment_count,
    coalesce(p.payment_value, 0) as payment_value,
    coalesce(r.review_count, 0) as review_count,
    r.mean_review_score
from raw_orders as o
left join raw_customers as c on o.customer_id = c.customer_id
left join items_by_order as i on o.order_id = i.order_id
left join payments_by_order as p on o.order_id = p.order_id
left join reviews_by_order as r on o.order_id = r.order_id;

drop table raw_orders;
drop table raw_customers;
drop table items_by_order;
drop table payments_by_order;
drop table reviews_by_order;

-- 3. RFM. analysis_date: the var, or the day after the latest purchase date.
create or replace temp table purchases as
select customer_unique_id, purchased_at, payment_value
from bench_orders
where is_purchase and customer_unique_id is not null;

create or replace temp table params as
select coalesce(${analysis_date}, max(cast(purchased_at as date)) + 1) as analysis_date
from purchases;

create or replace temp table rfm_base as
select
    customer_unique_id,
    (select analysis_date from params) - max(cast(purchased_at as date)) as recency_days,
    count(*) as frequency,
    sum(payment_value) as monetary,
    min(purchased_at) as first_purchase_at,
    max(purchased_at) as last_purchase_at
from purchases
group by customer_unique_id;

create or replace table bench_customer_rfm as
with thresholds as (
    select
        quantile_cont(recency_days, ${bin_quantiles}) as r_t,
        quantile_cont(frequency, ${bin_quantiles}) as f_t,
        quantile_cont(monetary, ${bin_quantiles}) as m_t
    from rfm_base
),
scored as (
    select
        b.customer_unique_id,
        b.recency_days,
        b.frequency,
        b.monetary,
        ${rfm_bins} - len(list_filter(t.r_t, lambda x: x < b.recency_days)) as r_score,
        ${f_score} as f_score,
        1 + len(list_filter(t.m_t, lambda x: x < b.monetary)) as m_score
    from rfm_base as b
    cross join thresholds as t
),
weighted as (
    select *, ${w_r} * r_score + ${w_f} * f_score + ${w_m} * m_score as rfm_weighted
    from scored
),
tier_cuts as (
    select
        quantile_cont(rfm_weighted, ${tier_low_pct}) as p_low,
        quantile_cont(rfm_weighted, ${tier_high_pct}) as p_high
    from weighted
)
select
    w.*,
    case
        when w.rfm_weighted <= c.p_low then 'high'
        when w.rfm_weighted > c.p_high then 'low'
        else 'medium'
    end as rfm_tier
from weighted as w
cross join tier_cuts as c;

-- 4. ABC (cumulative share before the customer) and XYZ (monthly cv over every month from the first purchase to
--    the last complete month before the analysis date, zero months included; the incomplete month is left out).
--    The monthly variance is taken in closed form from the sums over months with purchases:
--    zero months add nothing to the sums, only to the count of periods, so no month spine is needed.
--    As in the mart, n * sum_sq - total^2 is exact (decimals): a cv exactly on a threshold classes the same.
create or replace table bench_customer_abc_xyz as
with monthly as (
    select customer_unique_id, date_trunc('month', purchased_at) as period, sum(payment_value) as spend
    from purchases
    group by 1, 2
),
last_complete as (
    select cast(date_trunc('month', analysis_date) - interval 1 month as date) as last_complete_month
    from params
),
per_customer as (
    select
        monthly.customer_unique_id,
        greatest(date_diff('month', min(monthly.period), max(last_complete.last_complete_month)) + 1, 0)
            as periods_active,
        sum(case when monthly.period <= last_complete.last_complete_month then spend else 0 end) as total_spend,
        sum(case when monthly.period <= last_complete.last_complete_month then spend * spend else 0 end)
            as spend_squared
    from monthly
    cross join last_complete
    group by 1
),
xyz as (
    select
        per_customer.customer_unique_id,
        rfm.frequency,
        periods_active,
        case
            when periods_active > 1 and total_spend > 0
                -- stddev_pop / mean = sqrt(n * sum_sq - total^2) / total, the difference taken in exact decimals
                then sqrt(cast(periods_active * spend_squared - total_spend * total_spend as double))
                    / cast(total_spend as double)
        end as cv
    from per_customer
    inner join bench_customer_rfm as rfm on per_customer.customer_unique_id = rfm.customer_unique_id
),
abc as (
    select
        customer_unique_id,
        monetary,
        monetary / sum(monetary) over () as monetary_share,
        (sum(monetary) over (order by monetary desc, customer_unique_id rows between unbounded preceding and current row)
            - monetary) / sum(monetary) over () as share_before
    from bench_customer_rfm
),
classed as (
    select
        abc.customer_unique_id,
        case
            when abc.share_before < ${abc_a} then 'A'
            when abc.share_before < ${abc_b} then 'B'
            else 'C'
        end as abc_class,
        abc.monetary_share,
        abc.share_before,
        case
            when xyz.frequency = 1 then 'Single Purchase'
            when xyz.periods_active < ${xyz_min_periods} then 'Short History'
            when xyz.cv <= ${xyz_x} then 'X'
            when xyz.cv <= ${xyz_y} then 'Y'
            else 'Z'
        end as xyz_class,
        xyz.cv,
        xyz.periods_active
    from abc
    inner join xyz on abc.customer_unique_id = xyz.customer_unique_id
)
select *, abc_class || '_' || xyz_class as segment
from classed;

-- 5. Cohort retention by month and state (state of the customer's first purchase order), plus 'ALL'.
create or replace table bench_cohort_retention as
with first_state_ranked as (
    select
        customer_unique_id,
        customer_state,
        row_number() over (partition by customer_unique_id order by purchased_at, order_id) as row_num
    from bench_orders
    where customer_unique_id is not null and is_purchase
),
customer_cohort as (
    select
        b.customer_unique_id,
        date_trunc('month', b.first_purchase_at) as cohort_month,
        s.customer_state
    from rfm_base as b
    inner join first_state_ranked as s
        on b.customer_unique_id = s.customer_unique_id and s.row_num = 1
),
activity as (
    select
        customer_unique_id,
        date_trunc('month', purchased_at) as activity_month,
        sum(payment_value) as revenue
    from purchases
    group by 1, 2
),
last_month as (
    select max(date_trunc('month', purchased_at)) as last_month from purchases
),
sizes as (
    select
        cohort_month,
        case when grouping(customer_state) = 1 then 'ALL' else customer_state end as customer_state,
        count(*) as cohort_size
    from customer_cohort
    group by grouping sets ((cohort_month, customer_state), (cohort_month))
),
active as (
    select
        cc.cohort_month,
        date_diff('month', cc.cohort_month, a.activity_month) as months_since_first,
        case when grouping(cc.customer_state) = 1 then 'ALL' else cc.customer_state end as customer_state,
        count(*) as active_customers,
        sum(a.revenue) as revenue
    from activity as a
    inner join customer_cohort as cc on a.customer_unique_id = cc.customer_unique_id
    group by grouping sets (
        (cc.cohort_month, a.activity_month, cc.customer_state),
        (cc.cohort_month, a.activity_month)
    )
),
grid as (
    select s.cohort_month, s.customer_state, s.cohort_size, m.months_since_first
    from sizes as s
    cross join last_month as lm
    cross join lateral (
        select unnest(range(0, date_diff('month', s.cohort_month, lm.last_month) + 1)) as months_since_first
    ) as m
)
select
    g.cohort_month,
    g.months_since_first,
    g.customer_state,
    g.cohort_size,
    coalesce(a.active_customers, 0) as active_customers,
    coalesce(a.active_customers, 0) / g.cohort_size as retention_rate,
    coalesce(a.revenue, 0) as revenue,
    coalesce(a.revenue, 0) / g.cohort_size as revenue_per_customer,
    sum(coalesce(a.revenue, 0)) over (
        partition by g.cohort_month, g.customer_state order by g.months_since_first
    ) / g.cohort_size as cumulative_revenue_per_customer
from grid as g
left join active as a
    on g.cohort_month = a.cohort_month
    and g.months_since_first = a.months_since_first
    and g.customer_state = a.customer_state;
