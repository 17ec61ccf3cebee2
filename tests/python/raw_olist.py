"""Independent pandas readers of the raw Olist CSVs, used by tests to check the marts.

Deliberately written without the project's SQL: ids stay text, money is rounded to cents,
and every figure is computed from the raw files as an analyst would, at the right grain.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

FILES = {
    "orders": "olist_orders_dataset.csv",
    "order_items": "olist_order_items_dataset.csv",
    "order_payments": "olist_order_payments_dataset.csv",
    "order_reviews": "olist_order_reviews_dataset.csv",
    "customers": "olist_customers_dataset.csv",
    "products": "olist_products_dataset.csv",
    "sellers": "olist_sellers_dataset.csv",
    "geolocation": "olist_geolocation_dataset.csv",
    "category_translation": "product_category_name_translation.csv",
}
EXCLUDED_STATUSES = ("canceled", "unavailable")


def read(raw_dir: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(
        Path(raw_dir) / FILES[table], dtype=str, keep_default_na=False, na_values=[""],
        encoding="utf-8-sig",
    )


def orders_with_customers(raw_dir: Path) -> pd.DataFrame:
    """One row per order with customer_unique_id, purchase flag, and payment total (0 when none)."""
    orders = read(raw_dir, "orders")
    customers = read(raw_dir, "customers")[["customer_id", "customer_unique_id"]]
    payments = read(raw_dir, "order_payments")
    payments["payment_value"] = payments["payment_value"].astype(float)
    paid = payments.groupby("order_id", as_index=False)["payment_value"].sum()
    out = orders.merge(customers, on="customer_id", how="left").merge(paid, on="order_id", how="left")
    out["payment_value"] = out["payment_value"].fillna(0.0)
    out["purchased_at"] = pd.to_datetime(out["order_purchase_timestamp"])
    out["is_purchase"] = ~out["order_status"].isin(EXCLUDED_STATUSES)
    return out


def customer_rfm_inputs(raw_dir: Path) -> pd.DataFrame:
    """Per purchasing customer: last purchase date, frequency, monetary (pandas, from raw)."""
    orders = orders_with_customers(raw_dir)
    purchases = orders[orders["is_purchase"]]
    return purchases.groupby("customer_unique_id").agg(
        last_purchase=("purchased_at", "max"),
        first_purchase=("purchased_at", "min"),
        frequency=("order_id", "count"),
        monetary=("payment_value", "sum"),
    )
