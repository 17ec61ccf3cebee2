"""Vars the README documents, each shown to change the output when set (or to fail the build beyond its limit).

Not covered by test_segmentation.py::test_every_rule_follows_its_var (RFM, ABC-XYZ, snapshot vars): the purchase
statuses, the Brazil box, the raw value limits, the month spines' limits and the kmeans_* vars. Every test starts
from a copy of the session's sample warehouse and rebuilds only the models (and tests) that read the var; every
expected figure comes from pandas on the raw files, or from the var itself.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import SAMPLE_DIR, DbtRun, query, run_dbt
from raw_olist import read


def rebuild(sample_build, tmp_path: Path, select: list[str], dbt_vars: dict) -> DbtRun:
    """dbt build of `select` only (no indirect tests) on a copy of the sample warehouse, with dbt_vars."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(sample_build.db_path, db)
    return run_dbt(["build", "--select", *select, "--indirect-selection", "empty"], db, tmp_path,
                   {"raw_data_dir": str(SAMPLE_DIR), **dbt_vars})


def status(run: DbtRun, name: str) -> dict:
    found = [r for r in run.run_results["results"] if r["unique_id"].split(".")[2] == name]
    assert len(found) == 1, (name, sorted(run.statuses()))
    return found[0]


# ------------------------------------------------------------------------- revenue_excluded_statuses

def test_revenue_excluded_statuses_decide_what_is_a_purchase(sample_build, tmp_path):
    statuses = ["canceled", "unavailable", "shipped", "processing"]
    run = rebuild(sample_build, tmp_path, ["fct_orders", "dim_customers", "int_segmentation__purchases"],
                  {"revenue_excluded_statuses": statuses})
    assert run.returncode == 0, run.output[-4000:]
    orders = read(SAMPLE_DIR, "orders")
    expected = dict(zip(orders["order_id"], ~orders["order_status"].str.strip().str.lower().isin(statuses)))
    got = dict(query(run.db_path, "select order_id, is_purchase from fct_orders"))
    assert got == expected
    default = query(sample_build.db_path, "select count(*) from fct_orders where is_purchase")[0][0]
    assert sum(expected.values()) < default  # the var changed the output, not only agreed with it
    customers = read(SAMPLE_DIR, "customers")[["customer_id", "customer_unique_id"]]
    buyers = orders[orders["order_id"].map(expected)].merge(customers, on="customer_id")
    assert query(run.db_path, "select count(*) from dim_customers where has_purchased")[0][0] == \
        buyers["customer_unique_id"].nunique()
    assert query(run.db_path, "select count(distinct order_id) from int_segmentation__purchases")[0][0] == len(buyers)


# ------------------------------------------------------------------------- brazil_bounds

BRAZIL_BOX = {"lat_min": -24.0, "lat_max": -21.0, "lng_min": -48.0, "lng_max": -42.0}  # around Sao Paulo and Rio
CLUSTER_MODELS = ["cluster_selection", "customer_clusters", "cluster_profiles"]


@pytest.fixture(scope="module")
def bounds_and_n_init(sample_build, tmp_path_factory) -> DbtRun:
    """One rebuild for two vars whose models are disjoint, so each test sees what a rebuild of its own models alone
    gives (and dbt parses once): brazil_bounds is read by stg_olist__geolocation and int_quality__geolocation (then
    data_quality_exclusions), which read no cluster model; kmeans_n_init by the cluster models, which read
    ml_customer_features and brazil_states (not rebuilt: as in the sample build) and not brazil_bounds."""
    return rebuild(sample_build, tmp_path_factory.mktemp("bounds_and_n_init"),
                   ["stg_olist__geolocation", "int_quality__geolocation", "data_quality_exclusions", *CLUSTER_MODELS],
                   {"brazil_bounds": BRAZIL_BOX, "kmeans_n_init": 1})


def test_brazil_bounds_decide_which_points_are_excluded(sample_build, bounds_and_n_init):
    box = BRAZIL_BOX
    run = bounds_and_n_init
    assert run.returncode == 0, run.output[-4000:]
    geo = read(SAMPLE_DIR, "geolocation")
    lat, lng = geo["geolocation_lat"].astype(float), geo["geolocation_lng"].astype(float)
    inside = lat.between(box["lat_min"], box["lat_max"]) & lng.between(box["lng_min"], box["lng_max"])
    rule = "select affected_rows from data_quality_exclusions where rule_name = 'geolocation_outside_brazil'"
    assert query(run.db_path, rule)[0][0] == int((~inside).sum())
    assert query(sample_build.db_path, rule)[0][0] < int((~inside).sum())
    zips = geo.loc[inside, "geolocation_zip_code_prefix"].str.strip().nunique()
    n, lat_min, lat_max, lng_min, lng_max = query(
        run.db_path, "select count(*), min(lat), max(lat), min(lng), max(lng) from stg_olist__geolocation")[0]
    assert n == zips
    assert box["lat_min"] <= lat_min <= lat_max <= box["lat_max"]
    assert box["lng_min"] <= lng_min <= lng_max <= box["lng_max"]


# ------------------------------------------------------------------------- raw_value_limits

def test_raw_value_limits_are_the_limits_of_the_range_tests(sample_build, tmp_path):
    items, orders = read(SAMPLE_DIR, "order_items"), read(SAMPLE_DIR, "orders")
    price = items["price"].astype(float)
    purchased = pd.to_datetime(orders["order_purchase_timestamp"])
    max_amount = float(price.quantile(0.9))
    min_date = purchased.quantile(0.1).normalize()
    limits = {"max_amount": max_amount, "min_date": f"{min_date:%Y-%m-%d}", "max_date": "2050-12-31"}
    tests = ["stg_olist__order_items_price_within_raw_value_limits",
             "stg_olist__orders_purchased_at_within_raw_value_limits",
             "stg_olist__order_items_freight_value_within_raw_value_limits"]
    run = rebuild(sample_build, tmp_path, tests, {"raw_value_limits": limits})
    assert run.returncode != 0
    price_test = status(run, tests[0])
    assert price_test["status"] == "fail" and price_test["failures"] == int((price > max_amount).sum())
    date_test = status(run, tests[1])
    assert date_test["status"] == "fail" and date_test["failures"] == int((purchased < min_date).sum())
    assert items["freight_value"].astype(float).max() <= max_amount
    assert status(run, tests[2])["status"] == "pass"  # every freight is within the limit: not everything fails


# ------------------------------------------------------------------------- snapshot_max_months, cohort_max_months

SPINE_TESTS = ["assert_snapshot_months_cover_the_history", "assert_cohort_every_month_present"]


def history_months() -> int:
    """Months from the first purchase month to the month of the latest purchase (the day before the default
    analysis date), both included, from the raw orders."""
    orders = read(SAMPLE_DIR, "orders")
    purchases = orders[~orders["order_status"].isin(["canceled", "unavailable"])]
    stamps = pd.to_datetime(purchases["order_purchase_timestamp"])
    first, last = stamps.min(), stamps.max()
    return (last.year - first.year) * 12 + last.month - first.month + 1


@pytest.mark.parametrize("spare", [0, -1], ids=["at_the_limit", "one_month_beyond"])
def test_month_spines_fail_a_test_beyond_their_max_months(sample_build, tmp_path, spare):
    months = history_months() + spare
    run = rebuild(sample_build, tmp_path, ["segment_snapshots", "cohort_retention", *SPINE_TESTS],
                  {"snapshot_max_months": months, "cohort_max_months": months})
    expected = "pass" if spare == 0 else "fail"
    for test in SPINE_TESTS:
        assert status(run, test)["status"] == expected, (test, months, run.output[-3000:])
    assert (run.returncode == 0) == (spare == 0)


# ------------------------------------------------------------------------- kmeans_*

def test_kmeans_vars_set_the_candidates_the_algorithm_and_the_samples(sample_build, tmp_path):
    n = query(sample_build.db_path, "select count(*) from ml_customer_features")[0][0]
    kmeans = {"kmeans_k_range": [2, 5], "kmeans_fixed_k": 4, "kmeans_silhouette_sample_size": 500,
              "kmeans_fit_sample_size": 1500, "kmeans_minibatch_threshold": 1000}
    assert n > kmeans["kmeans_fit_sample_size"] > kmeans["kmeans_minibatch_threshold"]
    run = rebuild(sample_build, tmp_path, CLUSTER_MODELS, kmeans)
    assert run.returncode == 0, run.output[-4000:]
    rows = query(run.db_path, "select k, chosen, chosen_by, algorithm, silhouette_sample_size, n_customers, "
                              "n_fit_customers from cluster_selection order by k")
    assert [r[0] for r in rows] == [2, 3, 4, 5]
    assert [r[0] for r in rows if r[1]] == [4]
    assert {r[2] for r in rows} == {"fixed_k"}
    assert {r[3] for r in rows} == {"minibatch_kmeans"}
    assert {r[4:] for r in rows} == {(500, n, 1500)}
    clusters = query(run.db_path, "select count(*), count(distinct cluster) from customer_clusters")[0]
    assert clusters == (n, 4)
    default = query(sample_build.db_path, "select distinct algorithm, n_fit_customers from cluster_selection")
    assert default == [("kmeans", n)]  # the sample is below the default thresholds


def test_kmeans_n_init_is_the_number_of_initialisations(sample_build, bounds_and_n_init):
    """sklearn draws the initialisations from one seeded generator, so the default (4) tries the single
    initialisation of n_init 1 and three more: its inertia is never higher, and lower for some k."""
    run = bounds_and_n_init
    assert run.returncode == 0, run.output[-4000:]
    one = dict(query(run.db_path, "select k, inertia from cluster_selection"))
    four = dict(query(sample_build.db_path, "select k, inertia from cluster_selection"))
    assert set(one) == set(four)
    assert all(four[k] <= one[k] * (1 + 1e-9) for k in one), (one, four)
    assert any(four[k] < one[k] * (1 - 1e-6) for k in one), (one, four)
