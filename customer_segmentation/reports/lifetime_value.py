"""Lifetime value: buy-till-you-die verdicts, CLV by customer, state and segment, the backtest's tracking plot,
and expected purchases (and P(alive) where a model is identified) by frequency and recency."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .core import (
    MissingMart, Page, Warehouse, esc, esc_list, fmt_int, fmt_money, fmt_num, fmt_pct, kpis_html, table_html,
)

SLUG = "lifetime_value"
TITLE = "Lifetime value"
REQUIRES = ("customer_lifetime_value", "clv_model_fit", "clv_model_selection")
INTRO = (
    "Expected purchases, P(alive), expected order value and CLV per customer from the mart "
    "<code>customer_lifetime_value</code>. The buy-till-you-die models (BG/NBD, MBG/NBD, Pareto/NBD for purchases, "
    "Gamma-Gamma for spend) are fit by maximum likelihood in <code>clv_model_fit</code>; a model the data do not "
    "identify is shown with the reason and never feeds P(alive). Purchases are counted in purchase days "
    "(several orders on one day count once)."
)
FIT_PARAMETERS = ("r", "alpha", "a", "b", "s", "beta", "p", "q", "v")
FREQUENCY_CAP = 7


def build(wh: Warehouse, page: Page) -> None:
    selection = wh.df("select * from clv_model_selection").iloc[0]
    horizon_columns = [c for c in wh.columns("customer_lifetime_value") if c.startswith("expected_purchases_")]
    longest = max(horizon_columns, key=lambda c: int(c.removeprefix("expected_purchases_").removesuffix("d")))
    customers, total_clv, mean_clv, with_p_alive, horizon = wh.one(
        "select count(*), sum(clv), avg(clv), count(p_alive), max(clv_horizon_months) from customer_lifetime_value"
    )
    page.section(
        "Headline",
        kpis_html([
            ("customers scored", fmt_int(customers)),
            (f"expected value, next {fmt_int(horizon)} months", fmt_money(total_clv)),
            ("mean CLV per customer", fmt_money(mean_clv)),
            ("purchases from", str(selection["purchases_model"])),
            ("P(alive) from", str(selection["p_alive_model"]) if selection["p_alive_model"] else "not reported"),
            ("order value from", str(selection["spend_model"])),
        ]),
        note=esc(f"{selection['selection_reason']} {selection['spend_reason']}")
        + (f" P(alive) is reported for {fmt_int(with_p_alive)} customers." if with_p_alive else ""),
    )
    _verdicts(wh, page)
    _distribution(wh, page)
    _by_group(wh, page)
    try:
        _tracking(wh, page)
    except MissingMart as exc:
        page.add_error("Backtest", f"backtest skipped: {exc}")
    _matrix(wh, page, longest)


def _verdicts(wh: Warehouse, page: Page) -> None:
    fits = wh.df("select * from clv_model_fit order by model")
    shown = pd.DataFrame(
        {
            "model": fits["model"],
            "identified": fits["is_identified"].map({True: "yes", False: "no"}),
            "verdict": fits["verdict"],
            "why": fits["verdict_reason"],
            "parameters": [
                ", ".join(f"{p} = {fmt_num(row[p], 4)}" for p in FIT_PARAMETERS if p in row and pd.notna(row[p]))
                for _, row in fits.iterrows()
            ],
            "log-likelihood": fits["log_likelihood"],
            "customers (repeat)": [
                f"{fmt_int(n)} ({fmt_int(r)})" for n, r in zip(fits["n_fit_customers"], fits["n_repeat_customers"])
            ],
        }
    )
    page.section(
        "Can the data identify the models?",
        table_html(shown, formats={"log-likelihood": lambda v: fmt_num(v, 1)}, scroll=False),
        note="A fit is used only when it converged, had enough repeat customers, kept every shape parameter inside "
             "var clv_shape_parameter_range and every log-parameter's standard error (from the Hessian of the "
             "log-likelihood) under var clv_max_log_se; Gamma-Gamma also needs spend independent of frequency.",
    )


def _distribution(wh: Warehouse, page: Page) -> None:
    df = wh.df("select clv from customer_lifetime_value")
    fig = go.Figure(go.Histogram(x=df["clv"], nbinsx=60, marker_color="#2563eb"))
    fig.update_layout(xaxis_title="CLV (discounted expected money)", yaxis_title="customers", yaxis_type="log",
                      bargap=0.02)
    page.add_figure("CLV per customer", fig, height=380,
                    note="Customers per CLV bin (log scale: most customers bought once and expect little).")


def _by_group(wh: Warehouse, page: Page) -> None:
    if wh.has("dim_customers"):
        states = wh.df(
            """
            select coalesce(customers.customer_state, '(unknown)') as grp, count(*) as customers,
                   sum(clv.clv) as total_clv, avg(clv.clv) as mean_clv
            from customer_lifetime_value as clv
            left join dim_customers as customers on clv.customer_unique_id = customers.customer_unique_id
            group by 1 order by total_clv desc
            """
        )
        fig = go.Figure(go.Bar(x=esc_list(states["grp"]), y=states["total_clv"], marker_color="#059669",
                               customdata=np.stack([states["customers"], states["mean_clv"]], axis=-1),
                               hovertemplate="%{x}: total %{y:,.2f}<br>%{customdata[0]:,} customers, "
                                             "mean %{customdata[1]:,.2f}<extra></extra>"))
        fig.update_layout(xaxis_title="state (latest address)", yaxis_title="total CLV")
        page.add_figure("CLV by state", fig, height=380)
    if wh.has("customer_rfm"):
        segments = wh.df(
            """
            select coalesce(rfm.rfm_segment, '(none)') as grp, count(*) as customers,
                   sum(clv.clv) as total_clv, avg(clv.clv) as mean_clv
            from customer_lifetime_value as clv
            left join customer_rfm as rfm on clv.customer_unique_id = rfm.customer_unique_id
            group by 1 order by mean_clv desc, grp
            """
        )
        fig = go.Figure(go.Bar(x=esc_list(segments["grp"]), y=segments["mean_clv"], marker_color="#7c3aed",
                               customdata=np.stack([segments["customers"], segments["total_clv"]], axis=-1),
                               hovertemplate="%{x}: mean %{y:,.2f}<br>%{customdata[0]:,} customers, "
                                             "total %{customdata[1]:,.2f}<extra></extra>"))
        fig.update_layout(xaxis_title="RFM segment", yaxis_title="mean CLV per customer")
        page.add_figure("CLV by RFM segment", fig, height=380)


def _tracking(wh: Warehouse, page: Page) -> None:
    wh.require("clv_backtest", "clv_backtest_detail")
    backtest = wh.df("select * from clv_backtest order by model")
    detail = wh.df("select * from clv_backtest_detail where grain = 'period' order by model, bucket")
    fig = go.Figure()
    actual = detail.drop_duplicates("bucket")[["bucket", "actual_cumulative"]]
    fig.add_trace(go.Scatter(x=actual["bucket"], y=actual["actual_cumulative"], name="actual",
                             mode="lines", line=dict(color="#111827", width=3)))
    for model, part in detail.groupby("model"):
        fig.add_trace(go.Scatter(x=part["bucket"], y=part["predicted_cumulative"], name=f"predicted: {model}",
                                 mode="lines", line=dict(dash="dash")))
    fig.update_layout(xaxis_title="time units after calibration end", yaxis_title="cumulative repeat purchase days",
                      legend=dict(orientation="h", y=1.12), hovermode="x unified")
    split = backtest.iloc[0] if len(backtest) else None
    note = ("Purchases before calibration end fit the models; the held-out period after it is predicted. "
            "Only models identified on the calibration period are drawn.")
    if split is not None and pd.notna(split["calibration_end"]):
        note = (f"Calibration until {pd.Timestamp(split['calibration_end']):%Y-%m-%d}, held out until "
                f"{pd.Timestamp(split['holdout_end']):%Y-%m-%d}, {fmt_int(split['backtest_customers'])} customers. "
                + note)
    if len(detail):
        page.add_figure("Backtest: tracking the held-out period", fig, height=420, note=esc(note))
    shown = backtest[["model", "verdict", "actual_purchase_days", "predicted_purchase_days", "bias", "tracking_mape",
                      "beats_naive", "verdict_reason"]]
    page.section("Backtest errors", table_html(
        shown, formats={"bias": fmt_pct, "tracking_mape": fmt_pct,
                        "actual_purchase_days": lambda v: fmt_num(v, 1), "predicted_purchase_days": lambda v: fmt_num(v, 1)},
        scroll=False,
    ), note="tracking_mape: mean absolute percentage error of the cumulative curve; naive: every customer keeps "
            "their calibration purchase rate.")


def _matrix(wh: Warehouse, page: Page, longest: str) -> None:
    df = wh.df(
        f"""
        select least(btyd_frequency, {FREQUENCY_CAP}) as frequency,
               cast(floor(btyd_recency / 4) * 4 as integer) as recency,
               avg({longest}) as expected, avg(p_alive) as p_alive, count(*) as customers
        from customer_lifetime_value group by 1, 2
        """
    )
    frequencies = sorted(df["frequency"].unique())
    recencies = sorted(df["recency"].unique())
    labels = [f"{int(f)}+" if f == FREQUENCY_CAP else str(int(f)) for f in frequencies]

    def grid(column: str) -> np.ndarray:
        out = np.full((len(frequencies), len(recencies)), np.nan)
        out[df["frequency"].map({f: i for i, f in enumerate(frequencies)}).to_numpy(),
            df["recency"].map({r: j for j, r in enumerate(recencies)}).to_numpy()] = df[column].to_numpy(dtype=float)
        return out

    horizon = longest.removeprefix("expected_purchases_")
    fig = go.Figure(go.Heatmap(z=grid("expected"), x=recencies, y=labels, colorscale="Blues",
                               colorbar=dict(title="expected"),
                               hovertemplate="frequency %{y}, recency from %{x}: %{z:.3f}<extra></extra>"))
    fig.update_layout(xaxis_title="btyd_recency (time units, first to last purchase day, binned by 4)",
                      yaxis_title="repeat purchase days")
    page.add_figure("Expected purchases by frequency and recency", fig, height=420,
                    note=f"Mean expected purchase days in the next {horizon.removesuffix('d')} days per cell.")
    if df["p_alive"].notna().any():
        fig = go.Figure(go.Heatmap(z=grid("p_alive"), x=recencies, y=labels, colorscale="Greens", zmin=0, zmax=1,
                                   colorbar=dict(title="P(alive)"),
                                   hovertemplate="frequency %{y}, recency from %{x}: %{z:.3f}<extra></extra>"))
        fig.update_layout(xaxis_title="btyd_recency (time units, binned by 4)", yaxis_title="repeat purchase days")
        page.add_figure("P(alive) by frequency and recency", fig, height=420)
    else:
        page.section("P(alive) by frequency and recency",
                     '<p class="note">Not shown: no transaction model is identified on this data '
                     "(see the verdicts above), so P(alive) would mean nothing.</p>")
