"""Overview: customers, purchases, revenue, repeat share, data window, exclusions by rule."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .core import (
    currency,
    MissingMart, Page, Warehouse, esc, fmt_int, fmt_money, fmt_pct, kpis_html, table_html,
)

SLUG = "overview"
TITLE = "Overview"
REQUIRES = ("fct_orders", "dim_customers")
INTRO = (
    "Headline figures straight from the core marts <code>fct_orders</code> and <code>dim_customers</code>. "
    "A purchase is an order with <code>is_purchase</code> (status not in var <code>revenue_excluded_statuses</code>); "
    "revenue is the sum of <code>payment_value</code> of purchases."
)


def build(wh: Warehouse, page: Page) -> None:
    customers, purchasing, purchases, revenue, repeaters = wh.one(
        """
        select
            count(*),
            sum(case when has_purchased then 1 else 0 end),
            coalesce(sum(purchase_count), 0),
            coalesce(sum(purchase_value), 0),
            sum(case when purchase_count >= 2 then 1 else 0 end)
        from dim_customers
        """
    )
    orders, first_order, last_order, first_purchase, last_purchase = wh.one(
        """
        select
            count(*),
            min(purchased_at),
            max(purchased_at),
            min(case when is_purchase then purchased_at end),
            max(case when is_purchase then purchased_at end)
        from fct_orders
        """
    )
    repeat_share = (repeaters / purchasing) if purchasing else None
    window = "–"
    if first_purchase is not None:
        window = f"{first_purchase:%Y-%m-%d} → {last_purchase:%Y-%m-%d}"
    page.section(
        "Headline",
        kpis_html([
            ("customers (any order)", fmt_int(customers)),
            ("purchasing customers", fmt_int(purchasing)),
            ("purchases", fmt_int(purchases)),
            ("orders (all statuses)", fmt_int(orders)),
            ("revenue", fmt_money(revenue)),
            ("repeat share (≥ 2 purchases)", fmt_pct(repeat_share)),
            ("data window (purchases)", window),
        ]),
        note=(
            "Repeat share = purchasing customers with at least two purchases / purchasing customers. "
            f"Orders of any status span {esc(first_order)} → {esc(last_order)}."
            if first_order is not None else ""
        ),
    )

    monthly = wh.df(
        """
        select
            date_trunc('month', purchased_at) as month,
            sum(case when is_purchase then 1 else 0 end) as purchases,
            sum(case when is_purchase then payment_value else 0 end) as revenue,
            sum(case when is_purchase then 0 else 1 end) as not_purchases
        from fct_orders
        group by 1
        order by 1
        """
    )
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=monthly["month"], y=monthly["purchases"], name="purchases",
                         marker_color="#60a5fa"), secondary_y=False)
    fig.add_trace(go.Bar(x=monthly["month"], y=monthly["not_purchases"], name="canceled / unavailable orders",
                         marker_color="#f87171"), secondary_y=False)
    fig.add_trace(go.Scatter(x=monthly["month"], y=monthly["revenue"], name="revenue (" + currency() + ")",
                             mode="lines+markers", line_color="#111827"), secondary_y=True)
    fig.update_layout(barmode="stack", legend=dict(orientation="h", y=1.12), hovermode="x unified")
    fig.update_yaxes(title_text="orders", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text="revenue (" + currency() + ")", secondary_y=True, showgrid=False, rangemode="tozero")
    page.add_figure("Purchases and revenue by month", fig, height=420)

    status = wh.df(
        """
        select
            order_status,
            bool_or(is_purchase) as counts_as_purchase,
            count(*) as orders,
            sum(payment_value) as payment_value
        from fct_orders
        group by order_status
        order by orders desc
        """
    )
    page.section(
        "Orders by status",
        table_html(status, formats={"payment_value": fmt_money}, scroll=False),
        note="Orders whose status does not count as a purchase are kept in fct_orders and excluded from revenue.",
    )

    try:
        _exclusions(wh, page)
    except MissingMart as exc:
        page.add_error("Rows excluded by each rule", f"exclusions skipped: {exc}")


def _exclusions(wh: Warehouse, page: Page) -> None:
    wh.require("data_quality_exclusions")
    cols = wh.columns("data_quality_exclusions")
    order_by = [c for c in ("table_name", "rule_name") if c in cols]
    exclusions = wh.df("select * from data_quality_exclusions" + (f" order by {', '.join(order_by)}" if order_by else ""))
    first = [c for c in ("table_name", "rule_name", "outcome", "affected_rows", "table_rows", "affected_rate",
                         "affected_value", "rule_description") if c in exclusions.columns]
    exclusions = exclusions[first + [c for c in exclusions.columns if c not in first]]
    summary = ""
    if {"outcome", "affected_rows"} <= set(cols):
        by_outcome = wh.rows(
            "select outcome, sum(affected_rows), count(*) from data_quality_exclusions group by outcome order by outcome"
        )
        summary = " Rows affected by outcome: " + "; ".join(
            f"{esc(o)} {fmt_int(n)} ({k} rules)" for o, n, k in by_outcome) + "."
    page.section(
        "Rows excluded by each rule",
        table_html(exclusions, formats={"affected_rate": lambda v: fmt_pct(v, 2), "affected_value": fmt_money},
                   labels={"table_name": "table", "rule_name": "rule", "affected_rows": "rows affected",
                           "table_rows": "rows in file", "affected_rate": "rate", "affected_value": "money (" + currency() + ")",
                           "rule_description": "what it does"}, scroll=False),
        note="From the mart data_quality_exclusions: every rule between the raw files and the marts, with the rows "
             "it excluded, deduplicated, defaulted or only reported (0 when it did not fire)." + summary,
    )
