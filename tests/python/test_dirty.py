"""A dirty export (scripts/make_dirty_olist.py) against the README's rules ("What is checked, and what happens").

1. Repaired, excluded or reported: one build of a small generated export in which every rule of the second table
   fires (planted at known rows). The independent pandas reference (raw_olist.staged: the documented normalisation
   and deduplication; orphans fall away by reading through the orders) recomputes fct_orders, dim_customers,
   customer_rfm, customer_abc_xyz, cohort_retention and data_quality_exclusions (rows and money, rule by rule), and
   the difference between the reference on the dirty files and on the clean files they were made from must be
   exactly what was planted.
2. Stopping the build: one build per defect of the first table that test_bad_input.py does not plant (conflicting
   keys of products, sellers, items, payments, reviews; an unknown status, payment type, state, review score), on a
   copy of the clean generated export, selecting only the defect's source and staging model (and the states seed):
   the build fails, exactly the documented test fails, and the console names it.

Everything expected is computed here from the files or counted from what was planted; nothing is copied from the
project's SQL or output.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import make_dirty_olist
from conftest import DbtRun, query, query_df, run_dbt
from raw_olist import EXCLUDED_STATUSES, FILES, VARS, orders_with_customers, read, staged
from test_cohorts import _check_cohort_table, _expected_cohorts
from test_segmentation import assert_same_per_customer, counts, mart, reference_segments

CUSTOMERS, SEED = 400, 17
# every model the compared marts need, the source and staging tests (the rules' warnings) and the rate threshold;
# not the other marts' tests (they are not this module's subject, and leaving them out keeps the build short)
DIRTY_SELECT = [
    "--select", "+fct_orders", "+dim_customers", "+customer_rfm", "+customer_abc_xyz", "+cohort_retention",
    "+data_quality_exclusions", "path:models/staging/olist", "test_name:rate_within_thresholds",
    "--indirect-selection", "empty",
]
BOUNDS = VARS["brazil_bounds"]
THRESHOLDS = VARS["data_quality_thresholds"]


def cents(values) -> pd.Series:
    return (pd.Series(values, dtype=float) * 100).round().astype("int64")


# ------------------------------------------------------------------------------------------ pandas reference

def reference_orders(raw_dir: Path) -> pd.DataFrame:
    """fct_orders per order_id, from the staged files: money in cents."""
    orders = orders_with_customers(raw_dir).set_index("order_id")
    customers = staged(raw_dir, "customers").set_index("customer_id")
    known = set(orders.index)
    items = staged(raw_dir, "order_items")
    items = items[items["order_id"].isin(known)].copy()
    items["price_cents"], items["freight_cents"] = cents(items["price"]).values, cents(items["freight_value"]).values
    items["order_item_id"] = items["order_item_id"].astype(int)
    products = staged(raw_dir, "products")[["product_id", "product_category_name"]]
    translation = staged(raw_dir, "category_translation")
    sellers = staged(raw_dir, "sellers")[["seller_id", "seller_state"]]
    items = items.merge(products, on="product_id", how="left").merge(
        translation, on="product_category_name", how="left").merge(sellers, on="seller_id", how="left")
    items["category"] = items["product_category_name_english"].fillna(items["product_category_name"]) \
        .fillna("uncategorized")
    # the most expensive item (then the lowest item number) names the order's category and seller state
    main = items.sort_values(["order_id", "price_cents", "order_item_id"], ascending=[True, False, True]) \
        .drop_duplicates("order_id").set_index("order_id")
    by_order = items.groupby("order_id").agg(item_count=("order_item_id", "size"), items_cents=("price_cents", "sum"),
                                             freight_cents=("freight_cents", "sum"),
                                             distinct_products=("product_id", "nunique"),
                                             distinct_sellers=("seller_id", "nunique"))
    payments = staged(raw_dir, "order_payments")
    payments = payments[payments["order_id"].isin(known)].copy()
    payments["value_cents"] = cents(payments["payment_value"]).values
    paid = payments.groupby("order_id").agg(payment_count=("value_cents", "size"), payment_cents=("value_cents", "sum"))
    reviews = staged(raw_dir, "order_reviews")
    reviewed = reviews[reviews["order_id"].isin(known)].groupby("order_id").size().rename("review_count")

    out = pd.DataFrame(index=orders.index)
    out["customer_unique_id"] = orders["customer_unique_id"]
    out["order_status"] = orders["order_status"]
    out["is_purchase"] = ~orders["order_status"].isin(EXCLUDED_STATUSES)
    out["purchased_at"] = orders["purchased_at"]
    out = out.join(by_order).join(paid).join(reviewed)
    for column in ("item_count", "items_cents", "freight_cents", "payment_count", "payment_cents", "review_count",
                   "distinct_products", "distinct_sellers"):
        out[column] = out[column].fillna(0).astype("int64")
    out["order_cents"] = out["items_cents"] + out["freight_cents"]
    out["main_product_category"] = main["category"]
    out["main_seller_state"] = main["seller_state"]
    out["main_seller_id"] = main["seller_id"]
    address = customers.reindex(orders["customer_id"])
    for column in ("customer_state", "customer_city", "customer_zip_code_prefix"):
        out[column] = address[column].values
    return out


def reference_customers(orders: pd.DataFrame) -> pd.DataFrame:
    """dim_customers per person: counts and money of the orders, address of the latest order."""
    purchases = orders[orders["is_purchase"]]
    out = orders.groupby("customer_unique_id").agg(order_count=("order_status", "size"))
    out["purchase_count"] = purchases.groupby("customer_unique_id").size().reindex(out.index).fillna(0).astype(int)
    out["purchase_cents"] = purchases.groupby("customer_unique_id")["payment_cents"].sum() \
        .reindex(out.index).fillna(0).astype("int64")
    latest = orders.reset_index().sort_values(["purchased_at", "order_id"]).groupby("customer_unique_id").tail(1)
    latest = latest.set_index("customer_unique_id")
    for column in ("customer_state", "customer_city", "customer_zip_code_prefix"):
        out[column] = latest[column]
    return out


def reference_exclusions(raw_dir: Path) -> dict[str, tuple[str, int, int | None]]:
    """Every rule of data_quality_exclusions: rule -> (table, affected rows, affected money in cents or None)."""
    raw = {name: read(raw_dir, name) for name in FILES}
    kept = {name: staged(raw_dir, name) for name in FILES}

    def money(table: str, df: pd.DataFrame) -> int | None:
        if table == "order_items":
            return int(cents(df["price"]).sum() + cents(df["freight_value"]).sum())
        if table == "order_payments":
            return int(cents(df["payment_value"]).sum())
        return None

    out = {}
    for name in FILES:
        if name == "geolocation":
            continue
        removed_value = None if money(name, raw[name]) is None else money(name, raw[name]) - money(name, kept[name])
        out[f"{name}_exact_duplicate_rows"] = (name, len(raw[name]) - len(kept[name]), removed_value)
    known = set(kept["orders"]["order_id"])
    for name in ("order_items", "order_payments", "order_reviews"):
        orphans = kept[name][~kept[name]["order_id"].isin(known)]
        out[f"{name}_of_unknown_order"] = (name, len(orphans), money(name, orphans))
    ordering = set(kept["orders"]["customer_id"])
    out["customers_without_orders"] = ("customers", int((~kept["customers"]["customer_id"].isin(ordering)).sum()), None)
    items = kept["order_items"]
    for key, table in (("product_id", "products"), ("seller_id", "sellers")):
        unknown = items[~items[key].isin(set(kept[table][key]))]
        out[f"order_items_of_unknown_{key[:-3]}"] = ("order_items", len(unknown), money("order_items", unknown))
    geo = kept["geolocation"]
    lat, lng = pd.to_numeric(geo["geolocation_lat"]), pd.to_numeric(geo["geolocation_lng"])
    inside = lat.between(BOUNDS["lat_min"], BOUNDS["lat_max"]) & lng.between(BOUNDS["lng_min"], BOUNDS["lng_max"])
    out["geolocation_outside_brazil"] = ("geolocation", int((~inside).sum()), None)

    orders = reference_orders(raw_dir)
    paid = orders[orders["payment_count"] > 0]
    diff = paid["payment_cents"] - paid["order_cents"]
    out["orders_payment_not_equal_order_value"] = ("orders", int((diff != 0).sum()), int(diff.sum()))
    unpaid = orders[orders["is_purchase"] & (orders["payment_count"] == 0)]
    out["purchases_without_payment"] = ("orders", len(unpaid), int(unpaid["order_cents"].sum()))
    empty = orders[orders["is_purchase"] & (orders["item_count"] == 0)]
    out["purchases_without_items"] = ("orders", len(empty), int(empty["payment_cents"].sum()))
    return out


# --------------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def clean_dir(tmp_path_factory) -> Path:
    """The clean generated export the dirty one is made from (same customers and seed)."""
    out = tmp_path_factory.mktemp("olist_clean") / "raw"
    make_dirty_olist.generate_olist.generate(CUSTOMERS, SEED, out)
    return out


@pytest.fixture(scope="module")
def shared_work(tmp_path_factory) -> Path:
    """Where every build of this module runs: the same raw_data_dir, warehouse path and target folder each time, so
    dbt parses the project once and reuses it (partial parsing; another var value would mean a full parse)."""
    return tmp_path_factory.mktemp("olist_builds")


def build_shared(work: Path, raw_source: Path, select: list[str]) -> DbtRun:
    """dbt build of a copy of raw_source in the shared folder (a fresh warehouse each time)."""
    raw_dir, db = work / "raw", work / "warehouse.duckdb"
    shutil.rmtree(raw_dir, ignore_errors=True)
    db.unlink(missing_ok=True)
    shutil.copytree(raw_source, raw_dir)
    return run_dbt(["build", *select], db, work, {"raw_data_dir": str(raw_dir)})


@pytest.fixture(scope="module")
def dirty(tmp_path_factory, shared_work) -> tuple[DbtRun, Path, dict]:
    work = tmp_path_factory.mktemp("olist_dirty")
    planted = make_dirty_olist.make_dirty(work / "raw", CUSTOMERS, SEED)
    run = build_shared(shared_work, work / "raw", DIRTY_SELECT)
    if run.returncode != 0:
        pytest.fail(f"dbt build on the dirty export failed:\n{run.output[-6000:]}")
    db = shutil.move(run.db_path, work / "warehouse.duckdb")
    return DbtRun(run.returncode, run.output, Path(db), run.run_results), work / "raw", planted


# ------------------------------------------------------------------------------ repaired, excluded, reported

def test_every_rule_is_planted_and_stays_under_the_error_rate(dirty):
    _, raw_dir, planted = dirty
    rules = reference_exclusions(raw_dir)
    assert set(planted["rules"]) == set(rules)
    assert all(p["rows"] > 0 for p in planted["rules"].values())
    for rule, (table, rows, _) in rules.items():
        assert rows / len(read(raw_dir, table)) <= THRESHOLDS["error_rate"], rule


def test_reference_sees_exactly_what_was_planted(dirty, clean_dir):
    """Reference on the dirty files minus reference on the clean files they came from = the planted rows and money."""
    _, raw_dir, planted = dirty
    on_dirty, on_clean = reference_exclusions(raw_dir), reference_exclusions(clean_dir)
    for rule, p in planted["rules"].items():
        _, rows, value = on_dirty[rule]
        assert rows - on_clean[rule][1] == p["rows"], rule
        if value is not None:
            assert value - on_clean[rule][2] == p["cents"], rule


def test_build_warns_on_exactly_the_rules_that_fired(dirty):
    run, raw_dir, _ = dirty
    assert run.failures() == []
    rules = reference_exclusions(raw_dir)
    expected = {
        f"relationships_stg_olist__{child}_{key}__{key}__ref_stg_olist__{parent}_"
        for rule, child, key, parent in (
            ("order_items_of_unknown_order", "order_items", "order_id", "orders"),
            ("order_payments_of_unknown_order", "order_payments", "order_id", "orders"),
            ("order_reviews_of_unknown_order", "order_reviews", "order_id", "orders"),
            ("order_items_of_unknown_product", "order_items", "product_id", "products"),
            ("order_items_of_unknown_seller", "order_items", "seller_id", "sellers"),
        ) if rules[rule][1] > 0
    }
    outcomes = dict(query(run.db_path, "select rule_name, outcome from data_quality_exclusions"))
    over_warn = {rule for rule, (table, rows, _) in rules.items()
                 if outcomes[rule] != "reported" and rows / len(read(raw_dir, table)) > THRESHOLDS["warn_rate"]}
    if over_warn:
        expected.add("data_quality_exclusion_rate_within_thresholds")
    warned = {uid.split(".")[2] for uid, status in run.statuses().items() if status == "warn"}
    assert warned == expected
    listed = {r for (r,) in query(run.db_path, 'select rule_name from "main_dbt_test__audit".'
                                               '"data_quality_exclusion_rate_within_thresholds"')}
    assert listed == over_warn


def test_exclusions_match_the_reference_rule_by_rule(dirty):
    run, raw_dir, _ = dirty
    got = {rule: (table, table_rows, rows, value) for rule, table, table_rows, rows, value in query(
        run.db_path, "select rule_name, table_name, table_rows, affected_rows, affected_value "
                     "from data_quality_exclusions")}
    expected = reference_exclusions(raw_dir)
    assert set(got) == set(expected)
    for rule, (table, rows, value) in expected.items():
        g_table, g_table_rows, g_rows, g_value = got[rule]
        assert (g_table, g_table_rows, g_rows) == (table, len(read(raw_dir, table)), rows), rule
        assert (None if g_value is None else round(float(g_value) * 100)) == value, rule


def test_fct_orders_matches_the_reference(dirty):
    run, raw_dir, planted = dirty
    expected = reference_orders(raw_dir)
    got = query_df(run.db_path, "select * from fct_orders").set_index("order_id")
    assert sorted(got.index) == sorted(expected.index)
    got = got.loc[expected.index]
    for column in ("items_value", "freight_value", "payment_value", "order_value", "payment_minus_order_value"):
        got[column] = cents(got[column]).values
    pairs = {"customer_unique_id": "customer_unique_id", "order_status": "order_status", "is_purchase": "is_purchase",
             "item_count": "item_count", "items_value": "items_cents", "freight_value": "freight_cents",
             "payment_count": "payment_count", "payment_value": "payment_cents", "order_value": "order_cents",
             "review_count": "review_count", "main_product_category": "main_product_category",
             "distinct_products": "distinct_products", "distinct_sellers": "distinct_sellers",
             "main_seller_id": "main_seller_id",
             "main_seller_state": "main_seller_state", "customer_state": "customer_state",
             "customer_city": "customer_city", "customer_zip_code_prefix": "customer_zip_code_prefix"}
    for mart_column, ref_column in pairs.items():
        a, b = got[mart_column].astype(object), expected[ref_column].astype(object)
        differ = ~((a == b) | (a.isna() & b.isna()))
        assert not differ.any(), f"{mart_column}: {differ.sum()} orders differ, e.g. {list(expected.index[differ][:3])}"
    assert (got["payment_minus_order_value"] == expected["payment_cents"] - expected["order_cents"]).all()
    facts = planted["facts"]
    assert got.loc[facts["uncategorized_order"], "main_product_category"] == "uncategorized"
    assert pd.isna(got.loc[facts["unknown_seller_order"], "main_seller_state"])
    assert not got.loc[facts["upper_canceled_order"], "is_purchase"]
    assert (got.loc[facts["orders_without_payment"], "payment_value"] == 0).all()
    assert (got.loc[facts["orders_without_items"], "item_count"] == 0).all()


def test_dim_customers_matches_the_reference(dirty):
    run, raw_dir, _ = dirty
    expected = reference_customers(reference_orders(raw_dir))
    got = query_df(run.db_path, "select * from dim_customers").set_index("customer_unique_id")
    assert sorted(got.index) == sorted(expected.index)
    got = got.loc[expected.index]
    assert (got["order_count"] == expected["order_count"]).all()
    assert (got["purchase_count"] == expected["purchase_count"]).all()
    assert (cents(got["purchase_value"]).values == expected["purchase_cents"].values).all()
    assert (got["has_purchased"] == (expected["purchase_count"] > 0)).all()
    for column in ("customer_state", "customer_city", "customer_zip_code_prefix"):
        assert (got[column] == expected[column]).all(), column


def test_rfm_and_abc_xyz_match_the_reference(dirty):
    run, raw_dir, _ = dirty
    expected = reference_segments(raw_dir)
    rfm = mart(run.db_path, "customer_rfm")
    assert pd.Timestamp(rfm["analysis_date"].iloc[0]) == expected.attrs["analysis_date"]
    assert_same_per_customer(rfm, expected, ["recency_days", "frequency", "r_score", "f_score", "m_score", "rfm_tier",
                                             "r_grid", "rfm_segment"])
    assert np.allclose(rfm.loc[expected.index, "monetary"].astype(float), expected["monetary"], atol=0.005)
    abc = mart(run.db_path, "customer_abc_xyz")
    for column in ("abc_class", "xyz_class", "segment"):
        assert counts(abc[column]) == counts(expected[column]), column
    assert_same_per_customer(abc, expected, ["abc_class", "xyz_class", "segment"])


def test_cohort_retention_matches_the_reference(dirty):
    run, raw_dir, _ = dirty
    orders = orders_with_customers(raw_dir)
    states = staged(raw_dir, "customers")[["customer_id", "customer_state"]]
    purchases = orders.merge(states, on="customer_id", how="left")
    purchases = purchases[purchases["is_purchase"]]
    _check_cohort_table(run.db_path, _expected_cohorts(purchases), purchases["customer_unique_id"].nunique())


def test_text_quirks_are_read_and_normalised(dirty):
    run, raw_dir, planted = dirty
    for name in planted["bom_files"]:
        assert (raw_dir / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
    for name in planted["crlf_files"]:
        assert (raw_dir / name).read_bytes().count(b"\r\n") > 100, name
    review_id, order_id = planted["facts"]["multiline_review"]
    assert query(run.db_path, "select review_comment_message from stg_olist__order_reviews "
                              "where review_id = ? and order_id = ?", [review_id, order_id]) == \
        [(planted["review_text"],)]
    # the planted padding and case are in the files, and gone from staging
    raw_orders = read(raw_dir, "orders")
    assert (raw_orders["order_id"] != raw_orders["order_id"].str.strip()).any()
    assert (raw_orders["order_status"] != raw_orders["order_status"].str.lower()).any()
    checks = {
        "stg_olist__orders": "order_id <> trim(order_id) or customer_id <> trim(customer_id) "
                             "or order_status <> lower(order_status)",
        "stg_olist__order_items": "order_id <> trim(order_id) or product_id <> trim(product_id) "
                                  "or seller_id <> trim(seller_id)",
        "stg_olist__order_payments": "order_id <> trim(order_id) or payment_type <> lower(payment_type)",
        "stg_olist__order_reviews": "order_id <> trim(order_id) or review_id <> trim(review_id)",
        "stg_olist__customers": "customer_id <> trim(customer_id) or customer_unique_id <> trim(customer_unique_id) "
                                "or customer_state <> upper(customer_state) or customer_city <> lower(customer_city) "
                                "or length(customer_zip_code_prefix) <> 5",
        "stg_olist__products": "product_id <> trim(product_id) "
                               "or product_category_name <> lower(product_category_name)",
        "stg_olist__sellers": "seller_id <> trim(seller_id) or seller_state <> upper(seller_state)",
    }
    for model, condition in checks.items():
        assert query(run.db_path, f"select count(*) from {model} where {condition}") == [(0,)], model
    short_zip = planted["facts"]["short_zip_customer"]
    raw_zip = read(raw_dir, "customers").set_index("customer_id")["customer_zip_code_prefix"].get(short_zip)
    assert len(raw_zip) == 4
    assert query(run.db_path, "select customer_zip_code_prefix from stg_olist__customers where customer_id = ?",
                 [short_zip]) == [("0" + raw_zip,)]


def test_dirty_export_is_deterministic(tmp_path):
    first = make_dirty_olist.make_dirty(tmp_path / "a", CUSTOMERS, SEED)
    second = make_dirty_olist.make_dirty(tmp_path / "b", CUSTOMERS, SEED)
    assert first == second
    for name in [*FILES.values(), "PLANTED.json"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_reference_still_matches_the_clean_files_it_was_made_from(clean_dir):
    """On a clean export the documented rules change nothing: staged = read, and no rule but the generator's own."""
    for name in FILES:
        assert len(staged(clean_dir, name)) == len(read(clean_dir, name)), name
    rules = reference_exclusions(clean_dir)
    assert all(rows == 0 for rule, (_, rows, _) in rules.items()
               if rule.endswith("_exact_duplicate_rows") or rule.endswith("_unknown_order")
               or rule in ("customers_without_orders", "order_items_of_unknown_product",
                           "order_items_of_unknown_seller"))


# ------------------------------------------------------------------------------------ defects that stop the build

def _load(raw_dir: Path, table: str) -> tuple[list[str], list[list[str]]]:
    with open(raw_dir / FILES[table], encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _save(raw_dir: Path, table: str, header: list[str], rows: list[list[str]]) -> None:
    with open(raw_dir / FILES[table], "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])


def conflicting_copy(table: str, column: str, change):
    """Append a copy of the first row of `table` with `column` changed: same key, different row."""
    def mutate(raw_dir: Path) -> None:
        header, rows = _load(raw_dir, table)
        copy = list(rows[0])
        copy[header.index(column)] = change(copy[header.index(column)])
        _save(raw_dir, table, header, rows + [copy])
    return mutate


def set_first(table: str, column: str, value: str):
    """Set `column` of the first row of `table` to `value`."""
    def mutate(raw_dir: Path) -> None:
        header, rows = _load(raw_dir, table)
        rows[0][header.index(column)] = value
        _save(raw_dir, table, header, rows)
    return mutate


def _plus_one(value: str) -> str:
    return str(float(value) + 1)


# (table whose staging model runs, defect, the documented test that must fail, extra nodes it needs)
STOPPING = {
    "products_conflicting_key": ("products", conflicting_copy("products", "product_weight_g", _plus_one),
                                 "unique_stg_olist__products_product_id", []),
    "sellers_conflicting_key": ("sellers", conflicting_copy("sellers", "seller_city", lambda v: v + " do sul"),
                                "unique_stg_olist__sellers_seller_id", []),
    "items_conflicting_key": ("order_items", conflicting_copy("order_items", "price", _plus_one),
                              "unique_combination_of_columns_stg_olist__order_items_order_id__order_item_id", []),
    "payments_conflicting_key": (
        "order_payments", conflicting_copy("order_payments", "payment_value", _plus_one),
        "unique_combination_of_columns_stg_olist__order_payments_order_id__payment_sequential", []),
    "reviews_conflicting_key": (
        "order_reviews", conflicting_copy("order_reviews", "review_score", lambda v: "1" if v != "1" else "2"),
        "unique_combination_of_columns_stg_olist__order_reviews_review_id__order_id", []),
    "unknown_order_status": (
        "orders", set_first("orders", "order_status", "lost_in_transit"),
        "accepted_values_stg_olist__orders_order_status__delivered__shipped__canceled__unavailable__invoiced__"
        "processing__created__approved", []),
    "unknown_payment_type": (
        "order_payments", set_first("order_payments", "payment_type", "pix"),
        "accepted_values_stg_olist__order_payments_payment_type__credit_card__boleto__voucher__debit_card__"
        "not_defined", []),
    "state_not_a_uf": ("customers", set_first("customers", "customer_state", "XX"),
                       "relationships_stg_olist__customers_customer_state__state_code__ref_brazil_states_",
                       ["brazil_states"]),
    "seller_state_not_a_uf": ("sellers", set_first("sellers", "seller_state", "XX"),
                              "relationships_stg_olist__sellers_seller_state__state_code__ref_brazil_states_",
                              ["brazil_states"]),
    "review_score_out_of_range": ("order_reviews", set_first("order_reviews", "review_score", "6"),
                                  "accepted_range_stg_olist__order_reviews_review_score__5__1", []),
}


@pytest.mark.parametrize("case", sorted(STOPPING))
def test_defect_stops_the_build_naming_its_test(case, clean_dir, shared_work, tmp_path):
    table, mutate, node, extra = STOPPING[case]
    raw_dir = tmp_path / "raw"
    shutil.copytree(clean_dir, raw_dir)
    mutate(raw_dir)
    select = ["--select", f"source:olist.{table}", f"stg_olist__{table}", *extra, "--indirect-selection", "cautious"]
    run = build_shared(shared_work, raw_dir, select)
    assert run.returncode != 0
    assert {uid.split(".")[2] for uid in run.failures()} == {node}
    failed = next(r for r in run.run_results["results"] if r["unique_id"].split(".")[2] == node)
    assert failed["failures"] == 1, failed  # the one planted row (or pair of rows)
    assert f"Failure in test {node}" in run.output
