"""Independent pandas readers of the raw Olist CSVs, used by tests to check the marts.

Deliberately written without the project's SQL: ids stay text, money is rounded to cents,
and every figure is computed from the raw files as an analyst would, at the right grain.

`staged` applies the README's documented input rules ("What is checked, and what happens") to one file, in
pandas: only the columns the build reads, text normalised (ids trimmed, statuses and payment types lower-cased,
states upper-cased, cities lower-cased, zip prefixes padded to five digits, category names lower-cased, blank
texts empty), then rows identical to another (compared as values: numbers as numbers, timestamps as timestamps)
kept once. On a clean export it changes nothing; on a dirty one (scripts/make_dirty_olist.py) it is what every
reference below starts from. Orphan rows need no rule of their own here: everything is read through the orders.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

# table -> CSV file name: data knowledge (read from the sources YAML), not a computation under test
from customer_segmentation.data.olist import FILES  # noqa: F401  (re-exported to the tests)

VARS = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text())["vars"]
EXCLUDED_STATUSES = tuple(VARS["revenue_excluded_statuses"])
# the columns the build reads of each file (extra columns are ignored), and how each is compared and normalised
COLUMNS = {
    "orders": {"order_id": "id", "customer_id": "id", "order_status": "lower", "order_purchase_timestamp": "time",
               "order_approved_at": "time", "order_delivered_carrier_date": "time",
               "order_delivered_customer_date": "time", "order_estimated_delivery_date": "time"},
    "order_items": {"order_id": "id", "order_item_id": "number", "product_id": "id", "seller_id": "id",
                    "shipping_limit_date": "time", "price": "number", "freight_value": "number"},
    "order_payments": {"order_id": "id", "payment_sequential": "number", "payment_type": "lower",
                       "payment_installments": "number", "payment_value": "number"},
    "order_reviews": {"review_id": "id", "order_id": "id", "review_score": "number", "review_comment_title": "text",
                      "review_comment_message": "text", "review_creation_date": "time",
                      "review_answer_timestamp": "time"},
    "customers": {"customer_id": "id", "customer_unique_id": "id", "customer_zip_code_prefix": "zip",
                  "customer_city": "lower", "customer_state": "upper"},
    "products": {"product_id": "id", "product_category_name": "lower", "product_name_lenght": "number",
                 "product_description_lenght": "number", "product_photos_qty": "number",
                 "product_weight_g": "number", "product_length_cm": "number", "product_height_cm": "number",
                 "product_width_cm": "number"},
    "sellers": {"seller_id": "id", "seller_zip_code_prefix": "zip", "seller_city": "lower", "seller_state": "upper"},
    "geolocation": {"geolocation_zip_code_prefix": "zip", "geolocation_lat": "number", "geolocation_lng": "number",
                    "geolocation_city": "text", "geolocation_state": "upper"},
    "category_translation": {"product_category_name": "lower", "product_category_name_english": "lower"},
}


def read(raw_dir: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(
        Path(raw_dir) / FILES[table], dtype=str, keep_default_na=False, na_values=[""],
        encoding="utf-8-sig",
    )


def _blank_to_na(values: pd.Series) -> pd.Series:
    return values.mask(values == "")


def staged(raw_dir: Path, table: str) -> pd.DataFrame:
    """One file after the documented rules: its read columns normalised as text, exact duplicates kept once.

    Values stay text (as `read` gives them) except the normalised ones; geolocation is not deduplicated (every
    point counts in the prefix's median)."""
    df = read(raw_dir, table)[list(COLUMNS[table])].copy()
    compare = pd.DataFrame(index=df.index)
    for column, kind in COLUMNS[table].items():
        if kind in ("id", "text", "lower", "upper", "zip"):
            df[column] = _blank_to_na(df[column].str.strip())
        if kind == "lower":
            df[column] = df[column].str.lower()
        elif kind == "upper":
            df[column] = df[column].str.upper()
        elif kind == "zip":
            df[column] = df[column].str.zfill(5)
        if kind == "number":
            compare[column] = pd.to_numeric(df[column])
        elif kind == "time":
            compare[column] = pd.to_datetime(df[column], format="ISO8601")
        else:
            compare[column] = df[column]
    if table == "geolocation":
        return df
    return df[~compare.duplicated()].reset_index(drop=True)


def orders_with_customers(raw_dir: Path) -> pd.DataFrame:
    """One row per order with customer_unique_id, purchase flag, and payment total (0 when none).

    Read through `staged` (ids trimmed, statuses lower-cased, exact duplicates once): payments of orders that are
    not in the orders file never join."""
    orders = staged(raw_dir, "orders")
    customers = staged(raw_dir, "customers")[["customer_id", "customer_unique_id"]]
    payments = staged(raw_dir, "order_payments")
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
