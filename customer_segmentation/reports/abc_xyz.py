"""ABC-XYZ: the 3 × 4 matrix of customers and revenue per cell, with the segment descriptions."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .core import currency, Page, Warehouse, esc, fmt_money, fmt_pct, table_html

SLUG = "abc_xyz"
TITLE = "ABC-XYZ"
REQUIRES = ("customer_abc_xyz",)
INTRO = (
    "ABC by cumulative share of monetary value (var <code>abc_thresholds</code>), XYZ by the coefficient of "
    "variation of spend per period (var <code>xyz_thresholds</code>) over every period from the first purchase to "
    "the last complete one, empty periods counting as zero, from the mart <code>customer_abc_xyz</code>. "
    "Single Purchase: exactly one purchase; Short History: several purchases but fewer than "
    "<code>xyz_min_periods</code> periods in that window."
)
ABC = ("A", "B", "C")
XYZ = ("X", "Y", "Z", "Short History", "Single Purchase")


def build(wh: Warehouse, page: Page) -> None:
    wh.require_columns("customer_abc_xyz", ["customer_unique_id", "abc_class", "xyz_class", "segment"])
    cols = wh.columns("customer_abc_xyz")
    # revenue per customer: the mart's own monetary column if it has one, else the core mart's purchase_value
    if "monetary" in cols:
        money_join, money = "", "customer_abc_xyz.monetary"
    else:
        wh.require("dim_customers")
        money_join = ("left join dim_customers "
                      "on customer_abc_xyz.customer_unique_id = dim_customers.customer_unique_id")
        money = "dim_customers.purchase_value"
    description = "max(customer_abc_xyz.segment_description_en)" if "segment_description_en" in cols else "null"
    description_ru = "max(customer_abc_xyz.segment_description_ru)" if "segment_description_ru" in cols else "null"
    df = wh.df(
        f"""
        select
            customer_abc_xyz.abc_class,
            customer_abc_xyz.xyz_class,
            customer_abc_xyz.segment,
            count(*) as customers,
            coalesce(sum({money}), 0) as revenue,
            {description} as description_en,
            {description_ru} as description_ru
        from customer_abc_xyz
        {money_join}
        group by customer_abc_xyz.abc_class, customer_abc_xyz.xyz_class, customer_abc_xyz.segment
        """
    )
    seed = {}
    if wh.has_columns("abc_xyz_segments", ["segment", "description_en"]):
        seed = {s: d for s, d in wh.rows("select segment, description_en from abc_xyz_segments")}
    total_customers = float(df["customers"].sum()) or 1.0
    total_revenue = float(df["revenue"].sum()) or 1.0
    rows = list(ABC) + sorted(v for v in df["abc_class"].dropna().unique() if v not in ABC)
    cols_ = list(XYZ) + sorted(v for v in df["xyz_class"].dropna().unique() if v not in XYZ)
    customers = np.zeros((len(rows), len(cols_)))
    revenue = np.zeros((len(rows), len(cols_)))
    custom = [[["", "", 0.0, 0.0] for _ in cols_] for _ in rows]
    for rec in df.itertuples(index=False):
        if rec.abc_class not in rows or rec.xyz_class not in cols_:
            continue
        i, j = rows.index(rec.abc_class), cols_.index(rec.xyz_class)
        customers[i, j] += rec.customers
        revenue[i, j] += rec.revenue
        desc = rec.description_en if isinstance(rec.description_en, str) else seed.get(rec.segment, "")
        custom[i][j] = [esc(rec.segment), esc(desc), 0.0, 0.0]
    for i, abc in enumerate(rows):
        for j, xyz in enumerate(cols_):
            if not custom[i][j][0]:
                segment = f"{abc}_{xyz}"
                custom[i][j] = [esc(segment), esc(seed.get(segment, "")), 0.0, 0.0]
            custom[i][j][2] = round(100 * customers[i, j] / total_customers, 2)
            custom[i][j][3] = round(100 * revenue[i, j] / total_revenue, 2)
    text = [[f"{int(customers[i, j]):,} customers ({100 * customers[i, j] / total_customers:.1f} %)<br>"
             f"{currency()} {revenue[i, j]:,.0f} ({100 * revenue[i, j] / total_revenue:.1f} %)" for j in range(len(cols_))]
            for i in range(len(rows))]
    hover = ("<b>%{customdata[0]}</b><br>customers: %{customdata[4]:,} (%{customdata[2]:.1f} %)"
             "<br>revenue: " + currency() + " %{customdata[5]:,.2f} (%{customdata[3]:.1f} %)<br>%{customdata[1]}<extra></extra>")
    full_custom = [[custom[i][j] + [int(customers[i, j]), round(float(revenue[i, j]), 2)]
                    for j in range(len(cols_))] for i in range(len(rows))]
    x_labels = [esc(c) for c in cols_]
    y_labels = [esc(r) for r in rows]
    fig = go.Figure([
        go.Heatmap(z=customers, x=x_labels, y=y_labels, text=text, texttemplate="%{text}", customdata=full_custom,
                   hovertemplate=hover, colorscale="Blues", colorbar=dict(title=dict(text="customers")),
                   name="customers"),
        go.Heatmap(z=revenue, x=x_labels, y=y_labels, text=text, texttemplate="%{text}", customdata=full_custom,
                   hovertemplate=hover, colorscale="Greens", colorbar=dict(title=dict(text="revenue " + currency())),
                   name="revenue", visible=False),
    ])
    fig.update_layout(
        xaxis=dict(title="XYZ (variability of spend per period since the first purchase)", side="top", type="category"),
        yaxis=dict(title="ABC (value)", autorange="reversed", type="category"),
        updatemenus=[dict(
            type="buttons", direction="left", x=0, y=-0.08, xanchor="left", yanchor="top", showactive=True,
            buttons=[dict(label="Colour by customers", method="restyle", args=[{"visible": [True, False]}]),
                     dict(label="Colour by revenue", method="restyle", args=[{"visible": [False, True]}])],
        )],
        margin=dict(t=80, b=80),
    )
    page.add_figure(
        "ABC-XYZ matrix", fig, height=520,
        note="Each cell: customers and revenue (sum of monetary). Hover for the segment description.",
    )
    table = df.copy()
    table["customer_share"] = table["customers"] / total_customers
    table["revenue_share"] = table["revenue"] / total_revenue
    table["description_en"] = [d if isinstance(d, str) else seed.get(s, "")
                               for d, s in zip(table["description_en"], table["segment"])]
    order = {(a, x): i * 10 + j for i, a in enumerate(rows) for j, x in enumerate(cols_)}
    table["_o"] = [order.get((a, x), 999) for a, x in zip(table["abc_class"], table["xyz_class"])]
    table = table.sort_values("_o")
    keep = ["segment", "customers", "customer_share", "revenue", "revenue_share", "description_en"]
    if table["description_ru"].notna().any():
        keep.append("description_ru")
    page.section("Segments", table_html(
        table[keep], formats={"customer_share": fmt_pct, "revenue_share": fmt_pct, "revenue": fmt_money},
        labels={"description_en": "description", "description_ru": "описание",
                "customer_share": "share of customers", "revenue_share": "share of revenue"}, scroll=False,
    ))
