"""Geography: binned customer density on lon/lat (no base map, works offline), by state and city.

plotly cannot fetch base-map files offline, so the map is a heatmap of customer counts per
``BIN_DEGREES`` cell on equal-aspect cartesian axes: the populated cells outline the country. State
capitals from the ``brazil_states`` seed are labelled. A selector switches between all customers and
the customers of one churn risk / ABC-XYZ segment / RFM segment / cluster (each an aggregated layer).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .core import (
    Page, Warehouse, esc, esc_list, figure_div_id, fmt_money, fmt_pct, option_meta, segment_order,
    selector_html, table_html,
)

SLUG = "geography"
TITLE = "Geography"
REQUIRES = ("dim_customers", "brazil_states")
INTRO = (
    "Where customers live (address of their latest order, zip-prefix coordinates from the geolocation file). "
    "No base map is loaded: customer counts are binned into a lon/lat grid and drawn on equal-aspect axes, "
    "so the populated cells themselves outline the country."
)
BIN_DEGREES = 0.5
CHURN_ORDER = ("high", "medium", "low")
TOP_CITIES = 20


def _dimensions(wh: Warehouse) -> tuple[list[dict], list[str]]:
    """Optional layers: (label, SQL join, SQL expression). Missing marts are reported, not fatal."""
    dims, missing = [], []
    if wh.has_columns("customer_churn", ["customer_unique_id", "churn_risk"]):
        dims.append(dict(key="churn_risk", label="Churn risk", table="customer_churn", column="churn_risk"))
    else:
        missing.append("churn risk (mart customer_churn missing)")
    if wh.has_columns("customer_abc_xyz", ["customer_unique_id", "segment"]):
        dims.append(dict(key="segment", label="ABC-XYZ segment", table="customer_abc_xyz", column="segment"))
    else:
        missing.append("ABC-XYZ segment (mart customer_abc_xyz missing)")
    if wh.has_columns("customer_rfm", ["customer_unique_id", "rfm_segment"]):
        dims.append(dict(key="rfm_segment", label="RFM segment", table="customer_rfm", column="rfm_segment"))
    if wh.has_columns("customer_clusters", ["customer_unique_id", "cluster"]):
        dims.append(dict(key="cluster", label="Cluster", table="customer_clusters", column="cluster"))
    else:
        missing.append("cluster (mart customer_clusters missing)")
    return dims, missing


def _cluster_names(wh: Warehouse) -> dict:
    if not wh.has("cluster_profiles"):
        return {}
    cols = wh.columns("cluster_profiles")
    name_col = next((c for c in ("cluster_name", "name", "label") if c in cols), None)
    if "cluster" not in cols or name_col is None:
        return {}
    return {int(c): n for c, n in wh.rows(f"select cluster, {name_col} from cluster_profiles")}


def _value_order(key: str, values: list) -> list:
    if key == "churn_risk":
        known = [v for v in CHURN_ORDER if v in values]
        return known + sorted(v for v in values if v not in CHURN_ORDER)
    if key == "segment":
        return segment_order(values)
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _option_label(dim: dict, value, cluster_names: dict) -> str:
    if dim["key"] == "cluster":
        name = cluster_names.get(int(value)) if value is not None else None
        return f"Cluster {value}" + (f": {name}" if name else "")
    return f"{dim['label']}: {value}"


def build(wh: Warehouse, page: Page) -> None:
    dims, missing_dims = _dimensions(wh)
    cluster_names = _cluster_names(wh)
    states = wh.df(
        "select state_code, state_name, region, capital, capital_lat, capital_lng from brazil_states order by state_code"
    )
    n_with_coords, n_total = wh.one(
        "select count(customer_lat), count(*) from dim_customers"
    )
    b = BIN_DEGREES
    bin_sql = (
        f"floor(customer_lat / {b}) * {b} + {b / 2} as lat_bin, "
        f"floor(customer_lng / {b}) * {b} + {b / 2} as lng_bin"
    )

    # layers: option index -> DataFrame of (lat_bin, lng_bin, customers) or (state, customers)
    options: list[str] = ["All customers"]
    use_bins = n_with_coords > 0
    if use_bins:
        layers = [wh.df(
            f"select {bin_sql}, count(*) as customers from dim_customers "
            "where customer_lat is not null and customer_lng is not null group by all"
        )]
    else:
        layers = [wh.df("select customer_state as state, count(*) as customers from dim_customers group by all")]
    for dim in dims:
        joined = (
            f"from dim_customers inner join {dim['table']} as layer "
            "on dim_customers.customer_unique_id = layer.customer_unique_id"
        )
        if use_bins:
            df = wh.df(
                f"select layer.{dim['column']} as value, {bin_sql}, count(*) as customers {joined} "
                "where customer_lat is not null and customer_lng is not null group by all"
            )
        else:
            df = wh.df(
                f"select layer.{dim['column']} as value, customer_state as state, count(*) as customers "
                f"{joined} group by all"
            )
        values = _value_order(dim["key"], [v for v in df["value"].unique().tolist() if v is not None and not pd.isna(v)])
        for value in values:
            options.append(_option_label(dim, value, cluster_names))
            layers.append(df[df["value"] == value].drop(columns="value"))

    fig_id = figure_div_id(page)
    fig = go.Figure()
    brazilian = use_bins or wh.one(
        "select count(*) from dim_customers inner join brazil_states on dim_customers.customer_state = brazil_states.state_code"
    )[0] > 0
    if not brazilian:
        # a transactions export: regions are whatever the file names (countries, states...), no coordinates
        shown = _add_region_bar_layers(fig, layers)
        note = (
            "This data has no coordinates and no Brazilian states (the Olist geolocation file is Olist-only), so "
            f"customers are ranked by region (the mapped region column, 'unknown' where empty): the {shown} "
            "largest regions of each layer, by customers (address of the latest order)."
        )
        if missing_dims:
            note += " Layers not available yet: " + "; ".join(esc(m) for m in missing_dims) + "."
        selector = selector_html("Show", options, [fig_id], select_id="geo-layer")
        page.add_figure("Customers by region", fig, note=note, height=720, before=selector)
        _state_table(wh, page, dims, brazilian=False)
        _top_cities(wh, page)
        return
    if use_bins:
        _add_density_layers(fig, layers, b)
        note = (
            f"Each cell is {b}° × {b}°; colour = log10(customers in the cell), hover for the count. "
            f"{n_with_coords:,} of {n_total:,} customers have coordinates (zip prefix found in the geolocation file)."
        )
    else:
        _add_state_bubble_layers(fig, layers, states)
        note = (
            "No customer has coordinates in this data (the geolocation file is empty or matches no zip prefix), "
            "so customers are drawn per state as a bubble at the state capital."
        )
    fig.add_trace(go.Scatter(
        x=states["capital_lng"], y=states["capital_lat"], mode="markers+text",
        text=esc_list(states["capital"]), textposition="top center", textfont=dict(size=9, color="#111827"),
        marker=dict(size=5, color="#111827", symbol="diamond"),
        customdata=np.column_stack([esc_list(states["state_name"]), esc_list(states["state_code"])]),
        hovertemplate="%{text} — capital of %{customdata[0]} (%{customdata[1]})<extra></extra>",
        name="state capitals", showlegend=False,
    ))
    fig.update_xaxes(title_text="longitude", range=[-75, -33], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(title_text="latitude", range=[-35, 7], scaleanchor="x", scaleratio=1,
                     showgrid=False, zeroline=False, constrain="domain")
    fig.update_layout(plot_bgcolor="#f1f5f9")
    if missing_dims:
        note += " Layers not available yet: " + "; ".join(esc(m) for m in missing_dims) + "."
    selector = selector_html("Show", options, [fig_id], select_id="geo-layer")
    page.add_figure("Customer density", fig, note=note, height=720, before=selector)

    _state_table(wh, page, dims)
    _top_cities(wh, page)


def _add_density_layers(fig: go.Figure, layers: list[pd.DataFrame], b: float) -> None:
    everything = layers[0]
    lat_min, lat_max = everything["lat_bin"].min(), everything["lat_bin"].max()
    lng_min, lng_max = everything["lng_bin"].min(), everything["lng_bin"].max()
    n_lat = int(round((lat_max - lat_min) / b)) + 1
    n_lng = int(round((lng_max - lng_min) / b)) + 1
    grid_lng = np.round(lng_min + b * np.arange(n_lng), 4)
    grid_lat = np.round(lat_min + b * np.arange(n_lat), 4)
    for index, layer in enumerate(layers):
        # sparse columns (populated cells only) plus one empty cell per grid row/column the layer lacks,
        # so plotly lays every layer on the same regular grid without shipping the empty cells
        lng = np.round(layer["lng_bin"].to_numpy(dtype=float), 4)
        lat = np.round(layer["lat_bin"].to_numpy(dtype=float), 4)
        counts = layer["customers"].to_numpy(dtype=float)
        missing_lng = np.setdiff1d(grid_lng, lng)
        missing_lat = np.setdiff1d(grid_lat, lat)
        x = np.concatenate([lng, missing_lng, np.full(len(missing_lat), grid_lng[0])])
        y = np.concatenate([lat, np.full(len(missing_lng), grid_lat[0]), missing_lat])
        filler = [None] * (len(missing_lng) + len(missing_lat))
        z = np.round(np.log10(counts), 3).tolist() if len(counts) else []
        top = max(max(z, default=1.0), 1.0)
        ticks = list(range(0, int(math.floor(top)) + 1))
        fig.add_trace(go.Heatmap(
            x=x.tolist(), y=y.tolist(), z=z + filler, text=[f"{int(c):,}" for c in counts] + filler,
            zmin=0, zmax=top, colorscale="YlOrRd", hoverongaps=False,
            colorbar=dict(title=dict(text="customers"), tickvals=ticks, ticktext=[f"{10 ** t:,}" for t in ticks]),
            hovertemplate="lat %{y:.2f}, lng %{x:.2f}<br>customers: %{text}<extra></extra>",
            visible=index == 0, meta=option_meta(index), name="customers", showlegend=False,
        ))


TOP_REGIONS = 30


def _add_region_bar_layers(fig: go.Figure, layers: list[pd.DataFrame]) -> int:
    """One horizontal bar trace per layer: regions ranked by customers, largest on top. Returns the cap."""
    for index, layer in enumerate(layers):
        ranked = layer.sort_values(["customers", "state"], ascending=[False, True]).head(TOP_REGIONS)
        ranked = ranked.iloc[::-1]  # plotly draws the first category at the bottom
        fig.add_trace(go.Bar(
            x=ranked["customers"].astype(int).tolist(), y=esc_list(ranked["state"]), orientation="h",
            marker_color="#ef4444", text=[f"{int(n):,}" for n in ranked["customers"]], textposition="outside",
            hovertemplate="%{y}: %{x:,} customers<extra></extra>",
            visible=index == 0, meta=option_meta(index), name="customers", showlegend=False,
        ))
    fig.update_xaxes(title_text="customers", type="log")
    fig.update_yaxes(title_text="region", type="category")
    fig.update_layout(plot_bgcolor="#f8fafc")
    return TOP_REGIONS


def _add_state_bubble_layers(fig: go.Figure, layers: list[pd.DataFrame], states: pd.DataFrame) -> None:
    peak = max((float(layer["customers"].max()) for layer in layers if len(layer)), default=1.0)
    for index, layer in enumerate(layers):
        merged = states.merge(layer, left_on="state_code", right_on="state", how="inner")
        size = (np.sqrt(merged["customers"].astype(float) / peak) * 60).clip(lower=4)
        fig.add_trace(go.Scatter(
            x=merged["capital_lng"], y=merged["capital_lat"], mode="markers",
            marker=dict(size=size, color="#ef4444", opacity=0.55, line=dict(color="#7f1d1d", width=1)),
            customdata=[[code, int(n)] for code, n in zip(esc_list(merged["state_code"]), merged["customers"])],
            hovertemplate="%{customdata[0]}: %{customdata[1]:,} customers<extra></extra>",
            visible=index == 0, meta=option_meta(index), name="customers", showlegend=False,
        ))


def _state_table(wh: Warehouse, page: Page, dims: list[dict], brazilian: bool = True) -> None:
    by_key = {d["key"]: d for d in dims}
    share_cols, joins = [], []
    labels = {}
    if "churn_risk" in by_key:
        joins.append(
            "left join customer_churn on dim_customers.customer_unique_id = customer_churn.customer_unique_id"
        )
        for risk in CHURN_ORDER:
            col = f"churn_{risk}"
            share_cols.append(
                f"avg(case when customer_churn.churn_risk = '{risk}' then 1.0 "
                f"when customer_churn.churn_risk is not null then 0.0 end) as {col}"
            )
            labels[col] = f"churn risk {risk}"
    segments: list[str] = []
    if "segment" in by_key:
        joins.append(
            "left join customer_abc_xyz on dim_customers.customer_unique_id = customer_abc_xyz.customer_unique_id"
        )
        segments = segment_order(r[0] for r in wh.rows(
            "select segment from customer_abc_xyz where segment is not null group by segment"
        ))
        for i, seg in enumerate(segments):
            col = f"seg_{i}"
            share_cols.append(
                f"avg(case when customer_abc_xyz.segment = ? then 1.0 when customer_abc_xyz.segment is not null "
                f"then 0.0 end) as {col}"
            )
            labels[col] = seg
    select_shares = "".join(f",\n            {c}" for c in share_cols)
    df = wh.df(
        f"""
        select
            dim_customers.customer_state as state,
            max(brazil_states.state_name) as state_name,
            count(*) as customers,
            sum(case when dim_customers.has_purchased then 1 else 0 end) as purchasing,
            sum(dim_customers.purchase_value) as revenue{select_shares}
        from dim_customers
        left join brazil_states on dim_customers.customer_state = brazil_states.state_code
        {' '.join(joins)}
        group by dim_customers.customer_state
        order by customers desc, state
        """,
        segments,
    )
    formats = {"revenue": fmt_money}
    for col in labels:
        formats[col] = fmt_pct
    if brazilian:
        labels.update({"state": "UF", "state_name": "state", "purchasing": "purchasing customers"})
    else:
        df = df.drop(columns="state_name")
        labels.update({"state": "region", "purchasing": "purchasing customers"})
    place = "state" if brazilian else "region"
    note = f"Shares are over the {place}'s purchasing customers that have the label."
    if not share_cols:
        note = "Segment shares appear once customer_churn / customer_abc_xyz are built."
    page.section(f"Segment shares by {place}", table_html(df, formats=formats, labels=labels), note=note)


def _top_cities(wh: Warehouse, page: Page) -> None:
    if wh.one("select count(customer_city) from dim_customers")[0] == 0:
        page.section(f"Top {TOP_CITIES} cities by customers", "<p>No data: this data has no city column "
                     "(transactions layout without a mapped city).</p>")
        return
    df = wh.df(
        f"""
        select
            customer_city as city,
            customer_state as state,
            count(*) as customers,
            sum(purchase_value) as revenue
        from dim_customers
        group by customer_city, customer_state
        order by customers desc, revenue desc, city
        limit {TOP_CITIES}
        """
    )
    page.section(
        f"Top {TOP_CITIES} cities by customers",
        table_html(df, formats={"revenue": fmt_money}, scroll=False),
        note="City of the customer's latest order, as written in the source data.",
    )
