-- Hypotheses that need reviews (hypothesis_catalog.requires = 'reviews') report n = 0 and "no data" when
-- the data hold no review; with reviews they must be computed on at least one unit. Those that need only
-- purchases (or paid purchases, for 'payments') must have data whenever there are some. Not checked for data:
-- H06 (needs a whole season window), H03, H08, H11, H12 (need customers whose repeat horizon ends before the
-- analysis date) and H16 (needs a complete calendar year); a short history leaves them without units.

with

results as (

    select * from {{ ref('hypothesis_results') }}

),

catalog as (

    select * from {{ ref('hypothesis_catalog') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

coverage as (

    select
        coalesce(sum(case when is_purchase and review_count > 0 then 1 else 0 end), 0) as reviewed_purchases,
        coalesce(sum(case when is_purchase then 1 else 0 end), 0) as purchases,
        coalesce(sum(case when is_purchase and payment_count > 0 then 1 else 0 end), 0) as paid_purchases
    from orders

)

select
    results.hypothesis_id,
    catalog.requires,
    results.n,
    results.verdict,
    results.no_data_reason,
    coverage.reviewed_purchases
from results
inner join catalog
    on results.hypothesis_id = catalog.hypothesis_id
cross join coverage
where
    (
        catalog.requires = 'reviews'
        and coverage.reviewed_purchases = 0
        and (results.n <> 0 or results.verdict <> 'no data')
    )
    {%- if var('input_format', 'olist') == 'transactions' %}
    -- the transactions layout has no reviews, delivery dates, payment types, product photos or seller regions:
    -- the hypotheses that need them must say "no data" and why, not be computed on nulls
    or (
        catalog.olist_only_data is not null
        and (results.n <> 0 or results.verdict <> 'no data' or results.no_data_reason is null)
    )
    or (results.n = 0 and results.no_data_reason is null)
    {%- endif %}
    or (
        results.hypothesis_id not in ('H03', 'H08', 'H11', 'H12', 'H16')
        and (
            (catalog.requires = 'reviews' and coverage.reviewed_purchases > 0 and results.n = 0)
            or (
                catalog.requires = 'purchases' and coverage.purchases > 0 and results.n = 0
                {%- if var('input_format', 'olist') == 'transactions' %} and catalog.olist_only_data is null{% endif %}
            )
            or (
                catalog.requires = 'payments' and coverage.paid_purchases > 0 and results.n = 0
                {%- if var('input_format', 'olist') == 'transactions' %} and catalog.olist_only_data is null{% endif %}
            )
        )
    )
