"""Foundation: sources, staging and the order/customer core, checked against pandas on the raw CSVs."""
from __future__ import annotations

import pytest

from conftest import query
from raw_olist import orders_with_customers, read


def test_build_has_no_failures(any_build):
    run, _ = any_build
    assert run.returncode == 0
    assert run.failures() == []
    statuses = run.statuses()
    assert any(uid.startswith("model.customer_segmentation.fct_orders") for uid in statuses)


def test_order_count_and_money_match_raw(any_build):
    run, raw_dir = any_build
    orders = orders_with_customers(raw_dir)
    items = read(raw_dir, "order_items")
    n, payment, items_value, freight = query(
        run.db_path,
        "select count(*), sum(payment_value), sum(items_value), sum(freight_value) from fct_orders",
    )[0]
    assert n == len(orders) == orders["order_id"].nunique()
    assert float(payment) == pytest.approx(orders["payment_value"].sum(), abs=0.005)
    assert float(items_value) == pytest.approx(items["price"].astype(float).sum(), abs=0.005)
    assert float(freight) == pytest.approx(items["freight_value"].astype(float).sum(), abs=0.005)


def test_dim_customers_is_one_row_per_person_with_raw_purchase_figures(any_build):
    run, raw_dir = any_build
    orders = orders_with_customers(raw_dir)
    purchases = orders[orders["is_purchase"]]
    expected = purchases.groupby("customer_unique_id").agg(
        purchase_count=("order_id", "count"), purchase_value=("payment_value", "sum")
    )
    rows = query(
        run.db_path,
        "select customer_unique_id, purchase_count, purchase_value from dim_customers where has_purchased",
    )
    got = {cid: (cnt, float(val)) for cid, cnt, val in rows}
    assert len(got) == len(expected)
    assert query(run.db_path, "select count(*) from dim_customers")[0][0] == orders["customer_unique_id"].nunique()
    for cid, row in expected.iterrows():
        cnt, val = got[cid]
        assert cnt == row["purchase_count"]
        assert val == pytest.approx(row["purchase_value"], abs=0.005)


def test_zip_prefixes_keep_leading_zeros(any_build):
    run, raw_dir = any_build
    customers = read(raw_dir, "customers")
    raw_leading_zero = customers["customer_zip_code_prefix"].str.startswith("0").sum()
    got = query(
        run.db_path,
        "select count(*) from stg_olist__customers where customer_zip_code_prefix like '0%'",
    )[0][0]
    assert got == raw_leading_zero
    assert query(run.db_path, "select min(length(customer_zip_code_prefix)) from stg_olist__customers")[0][0] == 5


def test_order_with_items_but_no_payment_keeps_its_items_and_pays_zero(any_build):
    run, raw_dir = any_build
    items = read(raw_dir, "order_items")
    payments = read(raw_dir, "order_payments")
    unpaid = sorted(set(items["order_id"]) - set(payments["order_id"]))
    if not unpaid:
        pytest.skip("this dataset has no order with items but no payment")
    rows = query(
        run.db_path,
        "select payment_value, payment_count, item_count from fct_orders where order_id = ?",
        [unpaid[0]],
    )
    assert rows == [(0, 0, (items["order_id"] == unpaid[0]).sum())]


def test_misspelled_product_columns_are_renamed(any_build):
    run, _ = any_build
    columns = {r[0] for r in query(run.db_path, "describe stg_olist__products")}
    assert {"product_name_length", "product_description_length"} <= columns
    assert not any("lenght" in c for c in columns)
