"""Cohorts: retention, active customers and revenue per (cohort month × months since first), by state."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .core import currency, Page, Warehouse, esc, figure_div_id, option_meta, selector_html

SLUG = "cohorts"
TITLE = "Cohorts"
REQUIRES = ("cohort_retention",)
INTRO = (
    "Customers grouped by the calendar month of their first purchase (cohort) and followed month by month, "
    "from the mart <code>cohort_retention</code>, counting purchases before the analysis date. The state "
    "selector switches every chart on the page between all states (ALL) and one UF: the state of the "
    "customer's first purchase order. <b>Grey cells</b> are months the analysis date cuts "
    "(<code>is_complete_period</code> false): they hold only the purchases made so far and would otherwise "
    "look like a collapse of every cohort's last month."
)
COLUMNS = ["cohort_month", "months_since_first", "first_purchase_state", "is_all_states", "cohort_size",
           "active_customers", "retention_rate", "revenue", "is_complete_period", "analysis_date"]
INCOMPLETE_COLOR = "#c7c9cf"


def build(wh: Warehouse, page: Page) -> None:
    wh.require_columns("cohort_retention", COLUMNS)
    df = wh.df(
        """
        select
            cast(cohort_month as date) as cohort_month,
            months_since_first,
            case when is_all_states then 'ALL' else first_purchase_state end as customer_state,
            cohort_size,
            active_customers,
            retention_rate,
            revenue,
            is_complete_period,
            cast(analysis_date as date) as analysis_date
        from cohort_retention
        order by cohort_month, months_since_first
        """
    )
    # ALL + every UF of the brazil_states seed (a UF without customers gets an empty layer), + any other state
    seed_states = [s for (s,) in wh.rows("select state_code from brazil_states")] if wh.has("brazil_states") else []
    data_states = set(df["customer_state"].dropna().unique()) - {"ALL"}
    states = sorted(set(seed_states) | data_states)
    options = ["ALL"] + states
    labels = [o if o == "ALL" or o in data_states else f"{o} (no customers)" for o in options]
    cohorts = sorted(df["cohort_month"].unique())
    months = list(range(int(df["months_since_first"].min()), int(df["months_since_first"].max()) + 1))
    y_labels = [pd.Timestamp(c).strftime("%Y-%m") for c in cohorts]
    c_index = {c: i for i, c in enumerate(cohorts)}
    m_index = {m: j for j, m in enumerate(months)}

    def grid(part: pd.DataFrame, column: str) -> np.ndarray:
        out = np.full((len(cohorts), len(months)), np.nan)
        rows = part["cohort_month"].map(c_index).to_numpy()
        cols = part["months_since_first"].map(m_index).to_numpy()
        out[rows, cols] = part[column].to_numpy(dtype=float)
        return out

    analysis_date = pd.Timestamp(df["analysis_date"].max()).strftime("%Y-%m-%d") if len(df) else "?"

    def incomplete_overlay(part: pd.DataFrame, values: np.ndarray, label: str, fmt: str, meta, visible, name):
        """Grey cells over the periods the analysis date cuts, with the partial figure in the hover."""
        mask = ~grid(part.assign(flag=part["is_complete_period"].astype(bool).astype(float)), "flag").astype(bool)
        mask &= np.isfinite(values)
        return go.Heatmap(
            z=[[1 if m else None for m in row] for row in mask], x=months, y=y_labels, zmin=0, zmax=1,
            colorscale=[[0, INCOMPLETE_COLOR], [1, INCOMPLETE_COLOR]], showscale=False, hoverongaps=False,
            customdata=_rounded(np.where(mask, values, np.nan), 2), meta=meta, visible=visible, name=name,
            hovertemplate="cohort %{y}, month %{x}<br>incomplete month (cut by the analysis date " + analysis_date
                          + "): " + label + " so far " + fmt + "<extra>" + name + "</extra>",
        )

    def complete_only(part: pd.DataFrame, values: np.ndarray) -> np.ndarray:
        complete = grid(part.assign(flag=part["is_complete_period"].astype(bool).astype(float)), "flag") == 1
        return np.where(complete, values, np.nan)

    ids = [figure_div_id(page, k) for k in (1, 2, 3, 4)]
    selector = selector_html("State", labels, ids, select_id="cohort-state")
    figures = [go.Figure() for _ in range(4)]
    for index, state in enumerate(options):
        part = df[df["customer_state"] == state]
        retention_all = grid(part, "retention_rate") * 100
        active_all = grid(part, "active_customers")
        revenue_all = grid(part, "revenue")
        # incomplete periods are left out of the coloured cells (and of the colour scales) and drawn grey on top
        retention = complete_only(part, retention_all)
        active = complete_only(part, active_all)
        revenue = complete_only(part, revenue_all)
        size = part[part["months_since_first"] == months[0]].set_index("cohort_month")["cohort_size"]
        later = retention[:, 1:] if retention.shape[1] > 1 else retention
        zmax = float(np.nanmax(later)) if np.isfinite(later).any() and np.nanmax(later) > 0 else 100.0
        meta, visible, name = option_meta(index), index == 0, esc(state)
        sizes = grid(part, "cohort_size")
        figures[0].add_trace(go.Heatmap(
            z=_rounded(retention, 3), x=months, y=y_labels, zmin=0, zmax=zmax, colorscale="Viridis",
            hoverongaps=False, meta=meta, visible=visible, name=name,
            customdata=np.dstack([_nan0(active), _nan0(sizes)]).tolist(),
            colorbar=dict(title=dict(text="retention %")),
            hovertemplate="cohort %{y}, month %{x}<br>retention: %{z:.2f} %"
                          "<br>active %{customdata[0]:,} of %{customdata[1]:,}<extra>" + name + "</extra>",
        ))
        figures[0].add_trace(incomplete_overlay(part, retention_all, "retention", "%{customdata:.2f} %", meta, visible, name))
        figures[1].add_trace(go.Heatmap(
            z=_rounded(active, 0), x=months, y=y_labels, colorscale="Blues", hoverongaps=False,
            zmax=float(np.nanmax(active[:, 1:])) if active.shape[1] > 1 and np.isfinite(active[:, 1:]).any()
            and np.nanmax(active[:, 1:]) > 0 else None,
            zmin=0, meta=meta, visible=visible, name=name, colorbar=dict(title=dict(text="customers")),
            hovertemplate="cohort %{y}, month %{x}<br>active customers: %{z:,}<extra>" + name + "</extra>",
        ))
        figures[1].add_trace(incomplete_overlay(part, active_all, "active customers", "%{customdata:,}", meta, visible, name))
        figures[2].add_trace(go.Heatmap(
            z=_rounded(revenue, 2), x=months, y=y_labels, colorscale="Greens", hoverongaps=False,
            zmin=0, zmax=float(np.nanmax(revenue[:, 1:])) if revenue.shape[1] > 1 and np.isfinite(revenue[:, 1:]).any()
            and np.nanmax(revenue[:, 1:]) > 0 else None,
            meta=meta, visible=visible, name=name, colorbar=dict(title=dict(text=currency())),
            hovertemplate="cohort %{y}, month %{x}<br>revenue: " + currency() + " %{z:,.2f}<extra>" + name + "</extra>",
        ))
        figures[2].add_trace(incomplete_overlay(part, revenue_all, "revenue", "R$ %{customdata:,.2f}", meta, visible, name))
        figures[3].add_trace(go.Bar(
            x=[pd.Timestamp(c).strftime("%Y-%m") for c in size.index], y=size.to_numpy(),
            marker_color="#3b82f6", meta=meta, visible=visible, name=name,
            hovertemplate="cohort %{x}<br>new customers: %{y:,}<extra>" + name + "</extra>",
        ))
    for fig, title in zip(figures[:3], ("retention", "active customers", "revenue")):
        fig.update_layout(xaxis_title="months since first purchase", yaxis_title="cohort (first purchase month)",
                          yaxis_autorange="reversed", yaxis_type="category")
    figures[3].update_layout(xaxis_title="cohort", yaxis_title="customers", xaxis_type="category", showlegend=False)
    height = max(420, 18 * len(cohorts) + 140)
    page.add_controls(selector, note="applies to every chart on this page")
    grey = (f" Grey: the month the analysis date ({analysis_date}) cuts, not complete; hover shows the figure "
            "so far. It is left out of the colour scale.")
    page.add_figure("Retention rate", figures[0], height=height,
                    note="Share of the cohort's customers who purchased in that month. Month 0 is 100 % by "
                         "definition; the colour scale is fitted to complete months ≥ 1 so the tail stays readable."
                         + grey)
    page.add_figure("Active customers", figures[1], height=height,
                    note="Customers of the cohort with a purchase in that month (scale fitted to months ≥ 1)." + grey)
    page.add_figure("Revenue", figures[2], height=height,
                    note="Revenue (sum of payment_value of purchases) of the cohort in that month "
                         "(scale fitted to months ≥ 1)." + grey)
    page.add_figure("Cohort sizes", figures[3], height=360, note="New purchasing customers per month.")


def _nan0(a: np.ndarray) -> np.ndarray:
    return np.nan_to_num(a, nan=0.0).astype(int)


def _rounded(a: np.ndarray, digits: int) -> list:
    return [[None if np.isnan(v) else (round(float(v), digits) if digits else int(v)) for v in row] for row in a]
