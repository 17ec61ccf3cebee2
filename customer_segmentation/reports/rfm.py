"""RFM: churn-risk distribution, named RFM segments, R×F heatmap (all aggregated in SQL)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .core import currency, Page, Warehouse, esc, esc_list, fmt_money, fmt_num, fmt_pct, table_html

SLUG = "rfm"
TITLE = "RFM"
REQUIRES = ("customer_rfm", "customer_churn")
INTRO = (
    "Recency, frequency and monetary scores per purchasing customer from the mart <code>customer_rfm</code>: "
    "R and M quantile scores, F = the number of purchases capped at the number of bins, the weighted score, its "
    "relative tier (rfm_tier), the named RFM segment (recency quintile × number of purchases), and the absolute "
    "churn risk of <code>customer_churn</code> (estimated chance of no purchase within the horizon)."
)
CHURN_ORDER = ("high", "medium", "low")
CHURN_COLORS = {"high": "#dc2626", "medium": "#f59e0b", "low": "#16a34a"}


def build(wh: Warehouse, page: Page) -> None:
    wh.require_columns("customer_rfm", [
        "customer_unique_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "rfm_segment",
    ])
    wh.require_columns("customer_churn", ["customer_unique_id", "churn_risk"])
    _churn(wh, page)
    _segments(wh, page)
    _rf_heatmap(wh, page)


def _churn(wh: Warehouse, page: Page) -> None:
    df = wh.df(
        """
        select
            customer_churn.churn_risk,
            count(*) as customers,
            sum(customer_rfm.monetary) as revenue,
            avg(customer_rfm.recency_days) as mean_recency_days,
            avg(customer_rfm.frequency) as mean_frequency
        from customer_rfm
        left join customer_churn on customer_rfm.customer_unique_id = customer_churn.customer_unique_id
        group by customer_churn.churn_risk
        """
    )
    order = {v: i for i, v in enumerate(CHURN_ORDER)}
    df = df.assign(_o=df["churn_risk"].map(lambda v: order.get(v, 99))).sort_values(["_o", "churn_risk"])
    total = df["customers"].sum()
    revenue = df["revenue"].sum()
    df["share"] = df["customers"] / total if total else 0.0
    df["revenue_share"] = df["revenue"] / revenue if revenue else 0.0
    labels = esc_list(df["churn_risk"])
    colors = [CHURN_COLORS.get(v, "#64748b") for v in df["churn_risk"]]
    custom = np.column_stack([
        df["customers"], 100 * df["share"], df["revenue"], 100 * df["revenue_share"], df["mean_recency_days"],
    ])
    hover = ("churn risk %{x}<br>customers: %{customdata[0]:,}  (%{customdata[1]:.1f} %)"
             "<br>revenue: " + currency() + " %{customdata[2]:,.2f}  (%{customdata[3]:.1f} %)"
             "<br>mean recency: %{customdata[4]:.0f} days<extra></extra>")
    fig = go.Figure([
        go.Bar(x=labels, y=df["customers"], marker_color=colors, customdata=custom, hovertemplate=hover,
               text=[f"{v:,}" for v in df["customers"]], textposition="outside", name="customers"),
        go.Bar(x=labels, y=100 * df["share"], marker_color=colors, customdata=custom, hovertemplate=hover,
               text=[f"{v:.1f} %" for v in 100 * df["share"]], textposition="outside", name="percent",
               visible=False),
    ])
    fig.update_layout(
        showlegend=False, yaxis_title="customers", xaxis_title="churn risk",
        updatemenus=[dict(
            type="buttons", direction="left", x=0, y=1.15, xanchor="left", showactive=True,
            buttons=[
                dict(label="Absolute", method="update",
                     args=[{"visible": [True, False]}, {"yaxis.title.text": "customers"}]),
                dict(label="Percent", method="update",
                     args=[{"visible": [False, True]}, {"yaxis.title.text": "% of customers"}]),
            ],
        )],
    )
    page.add_figure(
        "Churn-risk distribution", fig, height=420,
        note="Absolute churn risk: high = estimated chance of no purchase within the horizon at or above "
             "churn_risk_thresholds.high, low = at or below .low (customer_churn: Kaplan-Meier on the shop's own "
             "gaps between purchase days, by purchase count and days of silence). The relative percentile tier of "
             "the weighted RFM score is rfm_tier. Toggle absolute counts / percent of customers.",
    )


def _segments(wh: Warehouse, page: Page) -> None:
    descriptions = {}
    if wh.has_columns("rfm_segments", ["rfm_segment", "description"]):
        descriptions = dict(wh.rows("select rfm_segment, max(description) from rfm_segments group by rfm_segment"))
    purchase_ranges = {}
    if wh.has_columns("rfm_segments", ["rfm_segment", "min_purchases", "max_purchases"]):
        purchase_ranges = {
            s: (f"{lo}" if hi == lo else f"{lo}+" if hi is None or pd.isna(hi) else f"{lo}–{hi}")
            for s, lo, hi in wh.rows("select rfm_segment, min_purchases, max_purchases from rfm_segments")
        }
    df = wh.df(
        """
        select
            rfm_segment,
            count(*) as customers,
            sum(monetary) as revenue,
            avg(recency_days) as mean_recency_days,
            avg(frequency) as mean_frequency,
            avg(monetary) as mean_monetary
        from customer_rfm
        group by rfm_segment
        order by customers desc, rfm_segment
        """
    )
    total = df["customers"].sum()
    df["share"] = df["customers"] / total if total else 0.0
    names = esc_list(df["rfm_segment"])
    desc = [esc(descriptions.get(s, "")) for s in df["rfm_segment"]]
    # explicit root (own id, so no segment name can collide with it) coloured below the scale: a white frame
    low, high = float(df["mean_monetary"].min()), float(df["mean_monetary"].max())
    overall = wh.one("select sum(monetary), avg(recency_days), avg(frequency), avg(monetary) from customer_rfm")
    custom = [[_num(v) for v in overall] + ["all purchasing customers"]] + [
        [_num(a), _num(b), _num(c), _num(d), e] for a, b, c, d, e in zip(
            df["revenue"], df["mean_recency_days"], df["mean_frequency"], df["mean_monetary"], desc)
    ]
    fig = go.Figure(go.Treemap(
        ids=["root"] + [f"segment-{i}" for i in range(len(df))],
        labels=["All purchasing customers"] + names, parents=[""] + ["root"] * len(df),
        values=[int(total)] + [int(v) for v in df["customers"]],
        marker=dict(colors=[low - 1.0] + [float(v) for v in df["mean_monetary"]], colorscale="Blues",
                    cmin=low, cmax=max(high, low + 1e-9), showscale=True,
                    colorbar=dict(title=dict(text="mean " + currency()))),
        customdata=custom,
        texttemplate="%{label}<br>%{value:,} customers<br>%{percentRoot:.1%}",
        hovertemplate=("<b>%{label}</b><br>customers: %{value:,} (%{percentRoot:.1%})"
                       "<br>revenue: " + currency() + " %{customdata[0]:,.2f}<br>mean recency: %{customdata[1]:.0f} days"
                       "<br>mean frequency: %{customdata[2]:.2f}<br>mean monetary: " + currency() + " %{customdata[3]:,.2f}"
                       "<br>%{customdata[4]}<extra></extra>"),
        branchvalues="total",
    ))
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=10))
    page.add_figure(
        "Named RFM segments", fig, height=520,
        note="Area = customers, colour = mean monetary. Segment names come from the rfm_segments seed: the "
             "recency quintile of the last purchase (r_grid 1..5) × the number of purchases, so every customer of "
             "a segment has made the purchases its description states (Champions, Loyal, At Risk and Cannot "
             "Lose Them: repeat buyers only).",
    )
    table = df.assign(description=[descriptions.get(s, "") for s in df["rfm_segment"]],
                      purchases=[purchase_ranges.get(s, "") for s in df["rfm_segment"]])[
        ["rfm_segment", "customers", "share", "revenue", "mean_recency_days", "purchases", "mean_frequency",
         "description"]
    ]
    page.section("RFM segments", table_html(
        table, scroll=False,
        formats={"share": fmt_pct, "revenue": fmt_money, "mean_recency_days": lambda v: fmt_num(v, 0),
                 "mean_frequency": lambda v: fmt_num(v, 2)},
        labels={"rfm_segment": "segment", "mean_recency_days": "mean recency (days)",
                "mean_frequency": "mean purchases"},
    ))


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)


def _rf_heatmap(wh: Warehouse, page: Page) -> None:
    df = wh.df(
        """
        select
            r_score,
            f_score,
            count(*) as customers,
            avg(monetary) as mean_monetary
        from customer_rfm
        group by r_score, f_score
        """
    )
    r_values = sorted(df["r_score"].unique().tolist())
    f_values = sorted(df["f_score"].unique().tolist())
    z = np.zeros((len(r_values), len(f_values)))
    mean_m = np.full((len(r_values), len(f_values)), np.nan)
    for row in df.itertuples(index=False):
        i, j = r_values.index(row.r_score), f_values.index(row.f_score)
        z[i, j] = row.customers
        mean_m[i, j] = row.mean_monetary
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"F{v}" for v in f_values], y=[f"R{v}" for v in r_values], colorscale="Blues",
        text=[[f"{int(v):,}" for v in row] for row in z], texttemplate="%{text}",
        customdata=[[None if np.isnan(v) else round(float(v), 2) for v in row] for row in mean_m],
        hovertemplate="%{y} × %{x}<br>customers: %{z:,}<br>mean monetary: " + currency() + " %{customdata:,.2f}<extra></extra>",
        colorbar=dict(title=dict(text="customers")),
    ))
    fig.update_layout(xaxis_title="frequency score", yaxis_title="recency score (higher = more recent)")
    page.add_figure(
        "Recency × frequency", fig, height=460,
        note="Customers per (R, F) score pair. F is the number of purchases capped at the number of bins "
             "(1, 2, 3, 4+ with 4 bins; var rfm_frequency_score quantile switches to quantile bins).",
    )
