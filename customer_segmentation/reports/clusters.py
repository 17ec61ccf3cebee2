"""Clusters: k-selection curve (inertia, silhouette) and cluster profiles from the ML marts."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

import pandas as pd

from .core import currency, MissingMart, Page, Warehouse, esc, fmt_auto, fmt_int, fmt_num, fmt_pct, table_html

SLUG = "clusters"
TITLE = "Clusters"
REQUIRES = ("cluster_selection", "cluster_profiles")
INTRO = (
    "KMeans on standardized customer features (dbt Python models in <code>models/marts/ml/</code>): the "
    "model-selection curve from <code>cluster_selection</code> and the profiles from <code>cluster_profiles</code>."
)
SAMPLE_CAP = 2000


def build(wh: Warehouse, page: Page) -> None:
    wh.require_columns("cluster_selection", ["k", "inertia", "silhouette"])
    sel = wh.df("select * from cluster_selection order by k")
    chosen_col = next((c for c in ("chosen", "is_chosen", "selected") if c in sel.columns), None)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=sel["k"], y=sel["inertia"], name="inertia", mode="lines+markers",
                             line_color="#2563eb"), secondary_y=False)
    fig.add_trace(go.Scatter(x=sel["k"], y=sel["silhouette"], name="silhouette", mode="lines+markers",
                             line_color="#dc2626"), secondary_y=True)
    note = "Inertia (within-cluster sum of squares, left) and silhouette (right) for each k."
    if chosen_col is not None and sel[chosen_col].astype(bool).any():
        k = int(sel.loc[sel[chosen_col].astype(bool), "k"].iloc[0])
        fig.add_vline(x=k, line_dash="dash", line_color="#111827",
                      annotation_text=f"chosen k = {k}", annotation_position="top")
        note += f" Chosen k = {k}."
    fig.update_layout(xaxis_title="k (clusters)", legend=dict(orientation="h", y=1.12), hovermode="x unified")
    fig.update_yaxes(title_text="inertia", secondary_y=False)
    fig.update_yaxes(title_text="silhouette", secondary_y=True, showgrid=False)
    page.add_figure("Choosing k", fig, height=420, note=note)

    _profiles(wh, page)
    try:
        _sample_scatter(wh, page)
    except MissingMart as exc:
        page.add_error("Customers by cluster (sample)", f"sample scatter skipped: {exc}")
    try:
        _repeat_model(wh, page)
    except MissingMart as exc:
        page.add_error("First-purchase repeat-buyer model", f"repeat model skipped: {exc}")


def _profiles(wh: Warehouse, page: Page) -> None:
    """Transposed: one column per cluster, one row per attribute (profiles are wide, clusters few)."""
    cols = wh.columns("cluster_profiles")
    profiles = wh.df("select * from cluster_profiles" + (" order by cluster" if "cluster" in cols else ""))
    if "cluster" not in profiles.columns:
        page.section("Cluster profiles", table_html(profiles))
        return
    headers = [f"cluster {c}" for c in profiles["cluster"]]
    rows = []
    for column in profiles.columns:
        if column == "cluster":
            continue
        values = profiles[column].tolist()
        if column == "share" or column.endswith("_share"):
            cells = [fmt_pct(v) for v in values]
        elif column == "size":
            cells = [fmt_int(v) for v in values]
        elif pd.api.types.is_float_dtype(profiles[column]):
            cells = [fmt_num(v, 2) for v in values]
        else:
            cells = [fmt_auto(v) for v in values]
        rows.append([column.replace("_", " ")] + cells)
    table = pd.DataFrame(rows, columns=["attribute"] + headers)
    page.section("Cluster profiles", table_html(table, scroll=False),
                 note="Per cluster: size, share of customers, feature means in original units, and the dominant "
                      "region / churn risk / RFM segment / ABC-XYZ segment with its share. Names are generated "
                      "from the profile.")


REPEAT_COLUMNS = ("model_name", "model_role", "roc_auc", "roc_auc_ci_low", "roc_auc_ci_high", "pr_auc",
                  "precision_top_decile", "recall_top_decile", "base_rate", "n_train", "n_test", "n_test_positive")


def _repeat_model(wh: Warehouse, page: Page) -> None:
    wh.require_columns("repeat_model_metrics", ["model_name", "roc_auc", "pr_auc"])
    df = wh.df("select * from repeat_model_metrics")
    shown = df[[c for c in REPEAT_COLUMNS if c in df.columns]]
    verdicts = []
    if "verdict" in df.columns:
        verdicts = [v for v in df["verdict"].dropna().tolist() if str(v).strip()]
    horizon = ""
    if "repeat_horizon_days" in df.columns and df["repeat_horizon_days"].notna().any():
        horizon = f" within {int(df['repeat_horizon_days'].dropna().iloc[0])} days of the first purchase"
    verdict_html = "".join(f'<p><span class="badge neutral">verdict</span> {esc(v)}</p>' for v in verdicts)
    page.section(
        "First-purchase repeat-buyer model", verdict_html + table_html(shown, scroll=False),
        note=f"Will a customer make a repeat purchase (a later calendar day) after the feature window and{horizon}, "
             "from what is known when the feature window closes (the first order, its delivery and review inside "
             "the window)? A repeat inside the feature window is not the label's: it happened before the "
             "prediction. Time-based split; the model against the always-no and single-feature baselines "
             "(mart repeat_model_metrics); base rate = share of test customers with such a repeat.",
    )
    _repeat_scores(wh, page)


def _repeat_scores(wh: Warehouse, page: Page) -> None:
    """Who is ranked and who is not: customers whose outcome is known get it, not a score."""
    if not wh.has("customer_repeat_scores") or "known_outcome" not in wh.columns("customer_repeat_scores"):
        return
    counts = wh.df(
        """
        select
            coalesce(known_outcome, 'open: scored') as status,
            case
                when known_outcome is not null then ''
                when feature_window_complete then 'every feature'
                else 'first order only (feature window still open)'
            end as features,
            count(*) as customers,
            avg(repeat_probability) as mean_repeat_probability
        from customer_repeat_scores
        group by all
        order by status, features
        """
    )
    total = int(counts["customers"].sum())
    counts["share"] = counts["customers"] / total if total else 0.0
    table = pd.DataFrame({
        "status": counts["status"],
        "features of the score": counts["features"],
        "customers": [fmt_int(v) for v in counts["customers"]],
        "share": [fmt_pct(v) for v in counts["share"]],
        "mean repeat probability": [fmt_pct(v) if pd.notna(v) else "" for v in counts["mean_repeat_probability"]],
    })
    page.section(
        "Who gets a repeat score", table_html(table, scroll=False),
        note="customer_repeat_scores has one row per purchasing customer. Only customers whose outcome is still "
             "open at the analysis date are scored and ranked into deciles (among themselves); for the others the "
             "outcome is already known ('repeated' / 'did not repeat' in known_outcome) and there is no score. "
             "Open customers whose feature window has not ended yet are scored without delivery and review, "
             "which may simply not have happened yet.",
    )


def _sample_scatter(wh: Warehouse, page: Page) -> None:
    wh.require_columns("customer_clusters", ["customer_unique_id", "cluster"])
    wh.require_columns("customer_rfm", ["customer_unique_id", "recency_days", "monetary"])
    # deterministic sample, capped: never one point per customer beyond SAMPLE_CAP
    df = wh.df(
        f"""
        select customer_clusters.cluster, customer_rfm.recency_days, customer_rfm.monetary, customer_rfm.frequency
        from customer_clusters
        inner join customer_rfm on customer_clusters.customer_unique_id = customer_rfm.customer_unique_id
        order by hash(customer_clusters.customer_unique_id), customer_clusters.customer_unique_id
        limit {SAMPLE_CAP}
        """
    )
    total = wh.one("select count(*) from customer_clusters")[0]
    fig = go.Figure()
    for cluster in sorted(df["cluster"].unique()):
        part = df[df["cluster"] == cluster]
        fig.add_trace(go.Scatter(
            x=part["recency_days"], y=part["monetary"], mode="markers", name=f"cluster {esc(cluster)}",
            marker=dict(size=5, opacity=0.6), customdata=part["frequency"],
            hovertemplate="recency %{x} days<br>monetary " + currency() + " %{y:,.2f}<br>purchases %{customdata}<extra></extra>",
        ))
    fig.update_layout(xaxis_title="recency (days)", yaxis=dict(title="monetary (" + currency() + ", log)", type="log", dtick=1))
    page.add_figure(
        "Customers by cluster (sample)", fig, height=460,
        note=f"A deterministic sample of at most {SAMPLE_CAP:,} customers (sample cap) out of {total:,}; "
             "the page never embeds one point per customer beyond this cap.",
    )
