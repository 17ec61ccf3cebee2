"""Over time: churn risk, rfm_tier and segments per monthly snapshot (stacked areas), the churn backtest
(calibration plot and table) and the migration matrix."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .core import (
    SEGMENT_COLORS, MissingMart, Page, Warehouse, esc, figure_div_id, fmt_num, fmt_pct, option_meta, segment_order,
    selector_html, table_html,
)

SLUG = "over_time"
TITLE = "Over time"
REQUIRES = ("segment_snapshots",)
INTRO = (
    "Every month end, each customer who had bought by then, scored <em>as of that date</em>, from the mart "
    "<code>segment_snapshots</code>. Churn risk is absolute: the estimated chance of no purchase within the "
    "horizon, from the survival of the shop's own gaps between purchase days known at that month end, cut at "
    "the same thresholds every month (var <code>churn_risk_thresholds</code>). rfm_tier is the old relative tier "
    "(percentiles of the weighted RFM score, about a quarter 'high' every month). The backtest "
    "(<code>churn_backtest</code>, <code>churn_backtest_calibration</code>) checks past month-end predictions "
    "against what customers did next; moves between months come from <code>segment_migration</code>."
)
CHURN_ORDER = ("high", "medium", "low")
CHURN_COLORS = {"high": "#dc2626", "medium": "#f59e0b", "low": "#16a34a"}
DATE_COLUMNS = ("snapshot_month", "snapshot_date", "as_of_date", "month_end", "snapshot_at", "month")


def _pick(columns: list[str], candidates) -> str | None:
    return next((c for c in candidates if c in columns), None)


def build(wh: Warehouse, page: Page) -> None:
    cols = wh.columns("segment_snapshots")
    date_col = _pick(cols, DATE_COLUMNS)
    if date_col is None:
        raise MissingMart(["segment_snapshots"], f"no snapshot date column among {', '.join(DATE_COLUMNS)}")
    wh.require_columns("segment_snapshots", ["churn_risk", "segment"])
    dimensions = [("churn_risk", "Churn risk by month")]
    if "rfm_tier" in cols:
        dimensions.append(("rfm_tier", "rfm_tier by month (relative)"))
    dimensions.append(("segment", "ABC-XYZ segments by month"))
    for dimension, title in dimensions:
        df = wh.df(
            f"""
            select cast({date_col} as date) as snapshot, {dimension} as value, count(*) as customers
            from segment_snapshots
            group by all
            order by snapshot, value
            """
        )
        _stacked(page, df, dimension, title)
    try:
        _backtest(wh, page)
    except MissingMart as exc:
        page.add_error("Churn backtest", f"backtest skipped: {exc}")
    try:
        _migration(wh, page)
    except MissingMart as exc:
        page.add_error("Segment migration", f"migration matrix skipped: {exc}")


def _order(dimension: str, values) -> list:
    values = [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if dimension in ("churn_risk", "rfm_tier"):
        return [v for v in CHURN_ORDER if v in values] + sorted(v for v in values if v not in CHURN_ORDER)
    return segment_order(values)


def _stacked(page: Page, df: pd.DataFrame, dimension: str, title: str) -> None:
    wide = df.pivot_table(index="snapshot", columns="value", values="customers", aggfunc="sum", fill_value=0)
    wide = wide.sort_index()
    x = [pd.Timestamp(d).strftime("%Y-%m") for d in wide.index]
    totals = wide.sum(axis=1).replace(0, np.nan)
    fig = go.Figure()
    values = _order(dimension, list(wide.columns))
    for value in values:
        label = esc(value)
        color = (CHURN_COLORS if dimension in ("churn_risk", "rfm_tier") else SEGMENT_COLORS).get(value)
        fig.add_trace(go.Scatter(
            x=x, y=wide[value].to_numpy(), name=label, mode="lines", stackgroup="one",
            line=dict(width=0.5, color=color) if color else dict(width=0.5),
            customdata=np.round(100 * wide[value] / totals, 2).fillna(0).to_numpy(),
            hovertemplate=label + ": %{y:,} customers (%{customdata:.1f} %)<extra></extra>",
        ))
    n = len(values)
    fig.update_layout(
        xaxis_title="snapshot (customers as of the month end)", yaxis_title="customers who had bought by then", hovermode="x unified",
        updatemenus=[dict(
            type="buttons", direction="left", x=0, y=1.14, xanchor="left", showactive=True,
            buttons=[
                dict(label="Absolute", method="restyle", args=[{"groupnorm": [""] * n}]),
                dict(label="Percent", method="restyle", args=[{"groupnorm": ["percent"] * n}]),
            ],
        )],
        legend=dict(orientation="v"),
    )
    notes = {
        "churn_risk": "Absolute: high = churn_probability at or above churn_risk_thresholds.high, low = at or below "
                      ".low, the same cut-offs every month, so the shares move when customers' chances move.",
        "rfm_tier": "Relative: the percentiles of the weighted RFM score among the customers of each month end "
                    "(var rfm_tier_percentiles), so the shares stay near 25 / 50 / 25 % by construction.",
    }
    page.add_figure(title, fig, height=460, note=notes.get(dimension, ""))


MODEL_COLORS = {"empirical": "#2563eb", "rfm_tier": "#9333ea", "bg_nbd": "#059669", "mbg_nbd": "#d97706",
                "pareto_nbd": "#db2777"}


def _backtest(wh: Warehouse, page: Page) -> None:
    wh.require("churn_backtest", "churn_backtest_calibration")
    calibration = wh.df(
        """
        select scope, model, decile, customer_count, mean_predicted_return_probability as predicted,
               observed_return_rate as observed
        from churn_backtest_calibration
        order by model, decile
        """
    )
    # with BTYD rows, every model on the month ends the BTYD models are scored at (the same customers and dates)
    btyd = bool((calibration["scope"] == "btyd months").any()) if len(calibration) else False
    calibration = calibration[calibration["scope"] == ("btyd months" if btyd else "all months")]
    fig = go.Figure()
    top = float(max(calibration["predicted"].max(), calibration["observed"].max(), 0.01)) if len(calibration) else 1.0
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="perfect calibration",
                             line=dict(color="#94a3b8", dash="dash"), hoverinfo="skip"))
    for model, part in calibration.groupby("model", sort=True):
        label = esc(model)
        fig.add_trace(go.Scatter(
            x=part["predicted"], y=part["observed"], mode="lines+markers", name=label,
            line=dict(color=MODEL_COLORS.get(model)), marker=dict(size=9),
            customdata=np.column_stack([part["decile"], part["customer_count"]]),
            hovertemplate=label + " decile %{customdata[0]}<br>predicted %{x:.2%}<br>observed %{y:.2%}"
                                  "<br>customer-months: %{customdata[1]:,}<extra></extra>",
        ))
    fig.update_layout(xaxis_title="predicted chance of buying again within the horizon (decile mean)",
                      yaxis_title="share that did", xaxis_tickformat=".0%", yaxis_tickformat=".0%")
    page.add_figure(
        "Churn backtest: calibration", fig, height=460,
        note=("Customers at each backtest month end in deciles of their predicted chance of buying again ("
              + ("the month ends on or after the BTYD calibration end pooled, the same customers for every model"
                 if btyd else "all backtest months pooled")
              + "); a calibrated model lies on the dashed line. rfm_tier's probability is its "
              "tier's return rate over earlier month ends whose horizon had ended; a BTYD model's is its "
              "P(a purchase within the horizon) with parameters fit on purchases before its calibration end."),
    )
    table = wh.df(
        """
        select
            coalesce(cast(backtest_month as varchar), scope) as backtest_month,
            model, customer_count, observed_return_rate, mean_predicted_return_probability,
            brier_score, brier_score_constant_rate, roc_auc, verdict
        from churn_backtest
        order by scope = 'month', scope, backtest_month desc, model
        """
    )
    page.section(
        "Churn backtest",
        table_html(
            table,
            formats={
                "observed_return_rate": fmt_pct, "mean_predicted_return_probability": fmt_pct,
                "brier_score": lambda v: fmt_num(v, 4), "brier_score_constant_rate": lambda v: fmt_num(v, 4),
                "roc_auc": lambda v: fmt_num(v, 3),
            },
            labels={
                "backtest_month": "month end", "customer_count": "customers", "observed_return_rate": "bought again",
                "mean_predicted_return_probability": "predicted", "brier_score": "Brier",
                "brier_score_constant_rate": "Brier of the constant rate", "roc_auc": "ROC AUC",
            },
        ),
        note="Per backtest month end and pooled ('all months'; 'btyd months' = only the month ends the BTYD "
             "models are scored at, every model on the same customers): predicted vs observed share buying again "
             "within the horizon, Brier score (lower is better) next to always predicting the observed rate, ROC "
             "AUC (0.5 = chance) and the verdict. A BTYD model that could not be scored has a row saying why.",
    )


def _migration(wh: Warehouse, page: Page) -> None:
    wh.require("segment_migration")
    dims = [d for d in ("churn_risk", "segment")
            if wh.has_columns("segment_migration", [f"from_{d}", f"to_{d}"])]
    count = _pick(wh.columns("segment_migration"), ("customer_count", "customers", "n_customers"))
    month = _pick(wh.columns("segment_migration"), ("snapshot_month", "to_month", "month"))
    if not dims or count is None or month is None:
        raise MissingMart(["segment_migration"], "expected snapshot_month, from_/to_ churn_risk or segment and "
                                                 "customer_count columns")
    months = [m for (m,) in wh.rows(f"select distinct cast({month} as date) from segment_migration order by 1")]
    options = ["all months"] + [f"{pd.Timestamp(m):%Y-%m}" for m in months]
    ids = [figure_div_id(page, k + 1) for k in range(len(dims))]
    selector = selector_html("Transition into month", options, ids, select_id="migration-month")
    for position, dim in enumerate(dims):
        df = wh.df(
            f"""
            select
                cast({month} as date) as month,
                from_{dim} as src,
                to_{dim} as dst,
                sum({count}) as customers
            from segment_migration
            group by all
            """
        )
        df["src"] = df["src"].fillna("new")
        df["dst"] = df["dst"].fillna("gone")
        src_labels = _order(dim, [v for v in df["src"].unique() if v not in ("new",)])
        if (df["src"] == "new").any():
            src_labels = ["new"] + src_labels
        dst_labels = _order(dim, [v for v in df["dst"].unique() if v != "gone"])
        if (df["dst"] == "gone").any():
            dst_labels.append("gone")
        fig = go.Figure()
        for index in range(len(options)):
            part = df if index == 0 else df[df["month"] == months[index - 1]]
            z = np.zeros((len(src_labels), len(dst_labels)))
            for rec in part.itertuples(index=False):
                z[src_labels.index(rec.src), dst_labels.index(rec.dst)] += rec.customers
            totals = z.sum(axis=1, keepdims=True)
            share = np.divide(100 * z, totals, out=np.zeros_like(z), where=totals > 0)
            fig.add_trace(go.Heatmap(
                z=np.round(share, 2), x=[esc(v) for v in dst_labels], y=[esc(v) for v in src_labels],
                customdata=z, colorscale="Purples", zmin=0, zmax=100,
                text=[[f"{int(v):,}" if v else "" for v in row] for row in z], texttemplate="%{text}",
                colorbar=dict(title=dict(text="% of row")), meta=option_meta(index), visible=index == 0,
                hovertemplate="%{y} → %{x}<br>customers: %{customdata:,}<br>%{z:.1f} % of the row<extra></extra>",
            ))
        fig.update_layout(xaxis=dict(title="to (month end)", side="top", type="category"),
                          yaxis=dict(title="from (previous month end)", autorange="reversed", type="category"))
        label = "churn risk" if dim == "churn_risk" else "ABC-XYZ segment"
        page.add_figure(
            f"Migration matrix: {label}", fig, height=max(420, 34 * len(src_labels) + 180),
            before=selector if position == 0 else "",
            note="Customers moving from a label at one month end (row) to a label at the next month end (column); "
                 "numbers are customers, colour is the share of the row. 'new' = customers whose first purchase "
                 "falls in the month. The selector picks one transition or the sum over all months.",
        )
