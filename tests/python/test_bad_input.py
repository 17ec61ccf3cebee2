"""Bad input: a messy export ends in a clear error naming the file, column or rule, or in a counted row of
data_quality_exclusions; never in wrong numbers, a bare traceback, or replaced marts.

Every fixture is a copy of the bundled sample (data/sample) with a few rows mutated in a temp dir. Each case has its
own test stating the expected behaviour. To keep the suite fast, one dbt build checks several cases that touch
different files (a source file's checks do not depend on the other files), and builds select only the layers the
cases need (sources, staging, core and the quality mart: CORE_SELECT); the empty-tables case builds every model
(with, of the tests, only the exclusion-rate threshold).
The failing builds run on a copy of a good warehouse, and each checks that its marts are unchanged afterwards.

Cases (numbers as in issue 7) and their expected behaviour:
  1  missing file                    error  "raw file not found: <path>"                          (source test)
  2  missing / renamed column        error  "<path> is missing required column(s): x. Found: ..."  (source test)
  3  extra unknown column            ignored (read as text, even when it changes type after 20,480 rows)
  4  unparseable timestamp           error  DuckDB 'CSV Error on Line: N ... converting column "x"' + path
  5  non-numeric price / payment     error  same, e.g. the Brazilian decimal comma "12,90"
     negative price / payment        error  stg_olist__<table>_<column>_within_raw_value_limits fails
  6  duplicated primary key          exact duplicate rows: kept once, counted (deduplicated);
                                     two different rows with one key: error, unique_stg_olist__<table>_<key>
  7  orphan foreign key              items/payments/reviews of unknown orders: excluded, counted, test warns;
                                     an order of an unknown customer: error, relationships_stg_olist__orders_...
  8  empty reviews, geolocation,     every model builds; a purchase without payment counts 0 (defaulted), so an
     payments (header only)          empty payments file makes data_quality_exclusion_rate_within_thresholds fail
  9  BOM and CRLF line endings       read transparently
  10 quoted newlines and commas      read transparently, text kept exactly
  11 non-UTF-8 bytes                 error "This file is not utf-8 encoded" + path; var raw_csv_encoding: latin-1
                                     reads a latin-1 export correctly
  12 absurd values (1e12, 1970, 2100) error  stg_..._within_raw_value_limits fails (var raw_value_limits)
  13 payments != items + freight     allowed, reported (orders_payment_not_equal_order_value), money = payments
"""
from __future__ import annotations

import csv
import re
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from conftest import REAL_SUBSET_DIR, ROOT, SAMPLE_DIR, DbtRun, prefetchable, query, run_dbt
from raw_olist import FILES

BASE_DIR = SAMPLE_DIR if SAMPLE_DIR.exists() else REAL_SUBSET_DIR
CORE_SELECT = [
    "--select", "+fct_orders", "+dim_customers", "+data_quality_exclusions",
    "--indirect-selection", "cautious",
]
VARS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
# the columns each source reads (the read_csv types map), i.e. what staging keeps of a row
REQUIRED = {
    "orders": ["order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at",
               "order_delivered_carrier_date", "order_delivered_customer_date", "order_estimated_delivery_date"],
    "order_items": ["order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date", "price",
                    "freight_value"],
    "order_payments": ["order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"],
    "order_reviews": ["review_id", "order_id", "review_score", "review_comment_title", "review_comment_message",
                      "review_creation_date", "review_answer_timestamp"],
    "customers": ["customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city",
                  "customer_state"],
    "products": ["product_id", "product_category_name", "product_name_lenght", "product_description_lenght",
                 "product_photos_qty", "product_weight_g", "product_length_cm", "product_height_cm",
                 "product_width_cm"],
    "sellers": ["seller_id", "seller_zip_code_prefix", "seller_city", "seller_state"],
    "geolocation": ["geolocation_zip_code_prefix", "geolocation_lat", "geolocation_lng", "geolocation_city",
                    "geolocation_state"],
    "category_translation": ["product_category_name", "product_category_name_english"],
}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ---------------------------------------------------------------------------------------------- raw file helpers

def copy_raw(dst: Path) -> Path:
    """A fresh copy of the base dataset's nine CSV files."""
    dst.mkdir(parents=True)
    for name in FILES.values():
        shutil.copyfile(BASE_DIR / name, dst / name)
    return dst


def load(raw_dir: Path, table: str) -> tuple[list[str], list[list[str]]]:
    with open(raw_dir / FILES[table], encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def save(raw_dir: Path, table: str, header, rows, *, encoding="utf-8", bom=False, line_end="\n") -> None:
    with open(raw_dir / FILES[table], "w", encoding=encoding, newline="") as f:
        if bom:
            f.write("\ufeff")
        writer = csv.writer(f, lineterminator=line_end)
        writer.writerow(header)
        writer.writerows(rows)


def set_value(raw_dir: Path, table: str, row_index: int, column: str, value: str) -> list[str]:
    header, rows = load(raw_dir, table)
    rows[row_index][header.index(column)] = value
    save(raw_dir, table, header, rows)
    return rows[row_index]


def append_rows(raw_dir: Path, table: str, new_rows: list[dict]) -> None:
    header, rows = load(raw_dir, table)
    rows += [[r.get(c, "") for c in header] for r in new_rows]
    save(raw_dir, table, header, rows)


def read_raw(raw_dir: Path, table: str, encoding: str = "utf-8-sig") -> pd.DataFrame:
    """Independent pandas read: every value as text, empty = missing."""
    return pd.read_csv(raw_dir / FILES[table], dtype=str, keep_default_na=False, na_values=[""],
                       encoding=encoding)


# ---------------------------------------------------------------------------------------------- warehouse helpers

def mart_names() -> list[str]:
    """Every model under models/marts/ (SQL or Python)."""
    return sorted({p.stem for p in (ROOT / "models" / "marts").rglob("*") if p.suffix in (".sql", ".py")})


FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}


def mart_checksums(db_path: Path) -> dict[str, tuple]:
    """Row count and an order-independent hash of every row, for every mart present in the warehouse.

    Floating-point columns are hashed rounded to 9 decimals: DuckDB sums doubles in parallel, so a statistic can
    differ in its last bit between two runs on the same data (e.g. 0.09211551161798716 vs ...723); every other
    type is hashed exactly.
    """
    checksums = {}
    with duckdb.connect(str(db_path), read_only=True) as con:  # one connection: ~25 ms of CPU each
        present = {name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()}
        for name in mart_names():
            if name not in present:
                continue
            columns = con.execute(f'describe "{name}"').fetchall()
            values = ", ".join(f'round("{c}", 9)' if t in FLOAT_TYPES else f'"{c}"' for c, t, *_ in columns)
            checksums[name] = con.execute(
                f'select count(*), coalesce(sum(hash({values})), 0) from "{name}"').fetchone()
    return checksums


def plain(output: str) -> str:
    return ANSI.sub("", output)


def result(run: DbtRun, name: str) -> dict:
    """The run_results entry of the node called `name` (the third part of its unique_id)."""
    found = [r for r in run.run_results.get("results", []) if r["unique_id"].split(".")[2] == name]
    assert len(found) == 1, f"expected one node named {name}, ran: {sorted(run.statuses())}"
    return found[0]


def model_status(run: DbtRun, model: str) -> str:
    return run.statuses().get(f"model.customer_segmentation.{model}", "not run")


@dataclass
class Case:
    run: DbtRun
    raw_dir: Path
    before: dict | None = None  # mart checksums of the good warehouse the build started from

    @property
    def output(self) -> str:
        return plain(self.run.output)


def build_case(tmp_path_factory, name: str, mutate, good_db: Path | None = None, select=CORE_SELECT,
               dbt_vars: dict | None = None) -> Case:
    return build_case_in(tmp_path_factory.mktemp(name), mutate, good_db, select, dbt_vars)


def build_case_in(work: Path, mutate, good_db: Path | None = None, select=CORE_SELECT,
                  dbt_vars: dict | None = None) -> Case:
    raw_dir = copy_raw(work / "raw")
    mutate(raw_dir)
    db = work / "warehouse.duckdb"
    before = None
    if good_db is not None:
        shutil.copyfile(good_db, db)
        before = mart_checksums(db)
    run = run_dbt(["build", *select], db, work, {"raw_data_dir": str(raw_dir), **(dbt_vars or {})})
    return Case(run, raw_dir, before)


def assert_stopped_before_marts(case: Case) -> None:
    """The build failed, every core/quality model was skipped, and the marts still hold the good build."""
    assert case.run.returncode != 0
    for model in ("fct_orders", "dim_customers", "data_quality_exclusions"):
        assert model_status(case.run, model) == "skipped", model
    assert mart_checksums(case.run.db_path) == case.before
    assert "Traceback" not in case.output


def assert_error_names(case: Case, node: str, *fragments: str) -> None:
    """Node `node` errored, and its message (in run_results and on the console) contains every fragment."""
    res = result(case.run, node)
    assert res["status"] in ("error", "fail"), res
    message = plain(res["message"] or "")
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in message of {node}: {message}"
        assert fragment in case.output, f"{fragment!r} not shown on the console"


# ------------------------------------------------------------------------------------- cases that stop the build
# One build: each file below is broken in its own way (files are checked independently of each other). The source
# checks stop everything downstream of the broken files; orders and customers themselves are readable, so their
# staging models build and their key tests run.

def mutate_errors(raw: Path) -> None:
    (raw / FILES["category_translation"]).unlink()                               # 1 missing file
    header, rows = load(raw, "order_items")                                       # 2 renamed column
    save(raw, "order_items", ["item_price" if c == "price" else c for c in header], rows)
    header, rows = load(raw, "products")                                          # 2 missing column
    keep = [i for i, c in enumerate(header) if c != "product_weight_g"]
    save(raw, "products", [header[i] for i in keep], [[r[i] for i in keep] for r in rows])
    header, rows = load(raw, "order_reviews")                                     # 4 unparseable timestamp
    rows[5][header.index("review_answer_timestamp")] = "2017-02-30 25:61:00"
    save(raw, "order_reviews", header, rows)
    set_value(raw, "order_payments", 7, "payment_value", "12,90")                 # 5 decimal comma
    header, rows = load(raw, "geolocation")                                       # 11 non-UTF-8 bytes
    rows[3][header.index("geolocation_city")] = "sao joao"
    save(raw, "geolocation", header, rows)
    data = (raw / FILES["geolocation"]).read_bytes()
    (raw / FILES["geolocation"]).write_bytes(data.replace(b"sao joao", "são joão".encode("latin-1"), 1))
    (raw / FILES["sellers"]).write_bytes(b"")                                     # an empty (0-byte) file
    header, rows = load(raw, "orders")
    status = header.index("order_status")
    conflicting = list(rows[10])                                                  # 6 same order_id, other status
    conflicting[status] = "canceled" if rows[10][status] != "canceled" else "delivered"
    orphan = list(rows[11])                                                       # 7 order of unknown customer
    orphan[header.index("order_id")] = "order_of_unknown_customer"
    orphan[header.index("customer_id")] = "customer_not_in_customers_file"
    save(raw, "orders", header, rows + [conflicting, orphan])
    header, rows = load(raw, "customers")                                         # 6 same customer_id, other city
    conflicting = list(rows[20])
    conflicting[header.index("customer_city")] = "cidade diferente"
    save(raw, "customers", header, rows + [conflicting])


@pytest.fixture(scope="module")
def errors(tmp_path_factory, sample_build) -> Case:
    return build_case(tmp_path_factory, "bad_errors", mutate_errors, sample_build.db_path)


def test_missing_file_is_named(errors):
    path = str(errors.raw_dir / FILES["category_translation"])
    assert_error_names(errors, "raw_csv_is_readable_olist_category_translation", "raw file not found: " + path)


def test_renamed_column_is_named_with_the_header_found(errors):
    assert_error_names(
        errors, "raw_csv_is_readable_olist_order_items",
        "olist_order_items_dataset.csv is missing required column(s): price.", "item_price",
    )


def test_missing_column_is_named(errors):
    assert_error_names(
        errors, "raw_csv_is_readable_olist_products",
        "olist_products_dataset.csv is missing required column(s): product_weight_g.",
    )


def test_unparseable_timestamp_names_file_line_and_column(errors):
    # review_answer_timestamp has no other source test: only raw_csv_is_readable converts every column
    assert_error_names(
        errors, "raw_csv_is_readable_olist_order_reviews",
        'Error when converting column "review_answer_timestamp"', '"2017-02-30 25:61:00"', "CSV Error on Line",
        str(errors.raw_dir / FILES["order_reviews"]),
    )


def test_non_numeric_payment_names_file_line_column_and_value(errors):
    assert_error_names(
        errors, "raw_csv_is_readable_olist_order_payments",
        'Error when converting column "payment_value"', '"12,90"', "CSV Error on Line: 9",
        str(errors.raw_dir / FILES["order_payments"]),
    )


def test_non_utf8_file_is_named(errors):
    assert_error_names(
        errors, "raw_csv_is_readable_olist_geolocation",
        "not utf-8 encoded", str(errors.raw_dir / FILES["geolocation"]),
    )


def test_empty_file_without_header_is_named(errors):
    assert_error_names(
        errors, "raw_csv_is_readable_olist_sellers",
        "raw file is empty (no header row): " + str(errors.raw_dir / FILES["sellers"]),
    )


@pytest.mark.parametrize("node", ["unique_stg_olist__orders_order_id", "unique_stg_olist__customers_customer_id"])
def test_conflicting_duplicate_key_is_an_error(errors, node):
    res = result(errors.run, node)
    assert res["status"] == "fail" and res["failures"] == 1, res
    assert f"Failure in test {node}" in errors.output


def test_order_of_unknown_customer_is_an_error(errors):
    node = "relationships_stg_olist__orders_customer_id__customer_id__ref_stg_olist__customers_"
    res = result(errors.run, node)
    assert res["status"] == "fail" and res["failures"] == 1, res
    assert f"Failure in test {node}" in errors.output


def test_readable_files_pass_their_source_checks(errors):
    for table in ("orders", "customers"):
        assert result(errors.run, f"raw_csv_is_readable_olist_{table}")["status"] == "pass"
    assert model_status(errors.run, "stg_olist__orders") == "success"


def test_errors_stop_the_build_before_any_mart_is_replaced(errors):
    assert_stopped_before_marts(errors)


def test_the_per_file_checks_lead_the_error_summary(errors):
    # a broken file also breaks the not_null tests on its columns (DuckDB's wording, repeated); the per-file check,
    # with the clearest message, is listed first
    summary = errors.output[errors.output.index("Completed with"):]
    failed = re.findall(r"Failure in test (\S+)", summary)
    per_file = [name for name in failed if name.startswith("raw_csv_is_readable_olist_")]
    assert len(per_file) == 7 and failed[:7] == per_file


# ------------------------------------------------------------------------- absurd and negative values (raw limits)

LATIN1_TEXT = "Produto ótimo, não veio amassado"


def mutate_absurd_values(raw: Path) -> None:
    set_value(raw, "orders", 3, "order_purchase_timestamp", "1970-01-01 00:00:00")  # 12 epoch zero
    set_value(raw, "orders", 4, "order_estimated_delivery_date", "2100-01-01 00:00:00")  # 12 far future
    set_value(raw, "order_items", 2, "price", "1000000000000.00")                   # 12 price 1e12
    set_value(raw, "order_items", 6, "freight_value", "-1.50")                      # 5 negative freight
    set_value(raw, "order_payments", 2, "payment_value", "-10.00")                  # 5 negative payment
    # and, in the same build, 11's remedy: the whole export in latin-1, read with var raw_csv_encoding
    set_value(raw, "order_reviews", 0, "review_comment_message", LATIN1_TEXT)
    for name in FILES.values():
        text = (raw / name).read_text(encoding="utf-8-sig")
        (raw / name).write_bytes(text.encode("latin-1"))


@pytest.fixture(scope="module")
def absurd_values(tmp_path_factory, sample_build) -> Case:
    return build_case(tmp_path_factory, "bad_absurd_values", mutate_absurd_values, sample_build.db_path,
                      dbt_vars={"raw_csv_encoding": "latin-1"})


@pytest.mark.parametrize("table, column", [
    ("orders", "purchased_at"),            # 1970
    ("orders", "estimated_delivery_at"),   # 2100
    ("order_items", "price"),              # 1e12
    ("order_items", "freight_value"),      # negative
    ("order_payments", "payment_value"),   # negative
])
def test_absurd_or_negative_value_fails_the_range_check_of_its_column(absurd_values, table, column):
    name = f"stg_olist__{table}_{column}_within_raw_value_limits"
    res = result(absurd_values.run, name)
    assert res["status"] == "fail" and res["failures"] == 1, res
    assert f"Failure in test {name}" in absurd_values.output


def test_values_within_limits_pass(absurd_values):
    assert result(absurd_values.run, "stg_olist__orders_approved_at_within_raw_value_limits")["status"] == "pass"


def test_absurd_values_stop_the_build_before_any_mart_is_replaced(absurd_values):
    assert_stopped_before_marts(absurd_values)


def test_latin1_export_reads_correctly_with_raw_csv_encoding(absurd_values):
    # the reviews file is fine apart from its encoding: with raw_csv_encoding latin-1 it passes and builds
    assert result(absurd_values.run, "raw_csv_is_readable_olist_order_reviews")["status"] == "pass"
    assert model_status(absurd_values.run, "stg_olist__order_reviews") == "success"
    db = absurd_values.run.db_path
    got = {m for (m,) in query(db, "select review_comment_message from stg_olist__order_reviews "
                               "where review_comment_message is not null")}
    raw = read_raw(absurd_values.raw_dir, "order_reviews", encoding="latin-1")
    assert LATIN1_TEXT in got
    assert got == set(raw["review_comment_message"].dropna().str.strip()) - {""}


# --------------------------------------------------------------- input the build repairs, excludes or reports

REVIEW_TEXT = 'Chegou rápido,\nmas a caixa veio "amassada", nota 3'


def mutate_allowed(raw: Path) -> dict:
    """Mutations the build must absorb; returns what the assertions need to know."""
    facts = {}
    header, rows = load(raw, "orders")                                              # 6 exact duplicates
    save(raw, "orders", header, rows + [rows[0], rows[1]], bom=True, line_end="\r\n")  # 9 BOM + CRLF
    header, rows = load(raw, "customers")
    save(raw, "customers", header, rows + [rows[0]])

    items_header, items = load(raw, "order_items")
    col = {c: i for i, c in enumerate(items_header)}
    counts = pd.Series([r[col["order_id"]] for r in items]).value_counts()
    single_item_orders = [r for r in items if counts[r[col["order_id"]]] == 1]
    unknown_product_item = single_item_orders[0]                                     # item of an unknown product
    unknown_product_item[col["product_id"]] = "product_not_in_products_file"
    facts["unknown_product_order"] = unknown_product_item[col["order_id"]]
    orphan_items = [list(items[5]), list(items[6])]                                  # 7 items of an unknown order
    for i, row in enumerate(orphan_items, start=1):
        row[col["order_id"]], row[col["order_item_id"]] = "order_not_in_orders_file", str(i)
    save(raw, "order_items", items_header, items + [items[9]] + orphan_items)       # 6 exact duplicate item

    pay_header, payments = load(raw, "order_payments")
    pcol = {c: i for i, c in enumerate(pay_header)}
    pay_counts = pd.Series([r[pcol["order_id"]] for r in payments]).value_counts()
    order_value = {}
    for r in items:
        order_value[r[col["order_id"]]] = order_value.get(r[col["order_id"]], Decimal(0)) + \
            Decimal(r[col["price"]]) + Decimal(r[col["freight_value"]])
    matching = next(r for r in payments if pay_counts[r[pcol["order_id"]]] == 1
                    and order_value.get(r[pcol["order_id"]]) == Decimal(r[pcol["payment_value"]]))
    matching[pcol["payment_value"]] = str(Decimal(matching[pcol["payment_value"]]) + Decimal("10.00"))  # 13
    facts["mismatch_order"] = matching[pcol["order_id"]]
    orphan_payment = list(payments[3])
    orphan_payment[pcol["order_id"]] = "another_order_not_in_orders_file"           # 7 payment of unknown order
    save(raw, "order_payments", pay_header, payments + [payments[12], orphan_payment])  # 6 exact duplicate payment

    rev_header, reviews = load(raw, "order_reviews")
    rcol = {c: i for i, c in enumerate(rev_header)}
    reviews[0][rcol["review_comment_message"]] = REVIEW_TEXT                         # 10 newline, comma, quotes
    facts["review"] = (reviews[0][rcol["review_id"]].strip(), reviews[0][rcol["order_id"]].strip())
    orphan_review = list(reviews[1])
    orphan_review[rcol["order_id"]] = "third_order_not_in_orders_file"              # 7 review of unknown order
    save(raw, "order_reviews", rev_header, reviews + [orphan_review])

    prod_header, products = load(raw, "products")                                   # 3 extra unknown column whose
    extra_rows = [[f"extra_product_{i:05d}"] + [""] * (len(prod_header) - 1) for i in range(25_000)]
    products = products + extra_rows                                                # type changes after the
    values = [str(i) for i in range(len(products) - 1)] + ["not a number"]           # sniffer's 20,480 rows
    save(raw, "products", prod_header + ["product_color_code"], [r + [v] for r, v in zip(products, values)])

    append_rows(raw, "geolocation", [                                               # points outside Brazil
        {"geolocation_zip_code_prefix": "01001", "geolocation_lat": "40.4168", "geolocation_lng": "-3.7038",
         "geolocation_city": "madrid", "geolocation_state": "SP"},
        {"geolocation_zip_code_prefix": "01001", "geolocation_city": "sem coordenadas", "geolocation_state": "SP"},
    ])
    return facts


@pytest.fixture(scope="module")
def allowed(tmp_path_factory) -> tuple[Case, dict]:
    facts = {}
    # warn_rate 0: every rule that deduplicates, excludes or defaults a row makes the rate test warn (not fail)
    case = build_case(tmp_path_factory, "bad_allowed", lambda raw: facts.update(mutate_allowed(raw)),
                      dbt_vars={"data_quality_thresholds": {"warn_rate": 0, "error_rate": 0.5}})
    if case.run.returncode != 0:
        pytest.fail(f"build on repairable input failed:\n{case.output[-6000:]}")
    return case, facts


def expected_exclusions(raw_dir: Path) -> dict[str, tuple[int, float | None]]:
    """Every rule of data_quality_exclusions computed with pandas from the raw files: rule -> (rows, money)."""
    t = {name: read_raw(raw_dir, name) for name in FILES}
    for df in t.values():
        for c in df.columns:
            if c.endswith("_id") or c == "order_id":
                df[c] = df[c].str.strip()
    money = {"order_items": lambda d: (d["price"].astype(float) + d["freight_value"].astype(float)).sum(),
             "order_payments": lambda d: d["payment_value"].astype(float).sum()}
    out, dedup = {}, {}
    for name in FILES:
        if name == "geolocation":
            continue
        df = t[name][REQUIRED[name]]
        dedup[name] = df.drop_duplicates()
        removed = df[df.duplicated()]
        out[f"{name}_exact_duplicate_rows"] = (len(removed), money[name](removed) if name in money else None)
    orders, items, payments = dedup["orders"], dedup["order_items"], dedup["order_payments"]
    known = set(orders["order_id"])
    for name in ("order_items", "order_payments", "order_reviews"):
        orphans = dedup[name][~dedup[name]["order_id"].isin(known)]
        out[f"{name}_of_unknown_order"] = (len(orphans), money[name](orphans) if name in money else None)
    customers = dedup["customers"]
    out["customers_without_orders"] = (int((~customers["customer_id"].isin(set(orders["customer_id"]))).sum()), None)
    for key, table in (("product_id", "products"), ("seller_id", "sellers")):
        unknown = items[~items[key].isin(set(dedup[table][key]))]
        out[f"order_items_of_unknown_{key[:-3]}"] = (len(unknown), money["order_items"](unknown))
    b = VARS["brazil_bounds"]
    geo = t["geolocation"]
    lat, lng = geo["geolocation_lat"].astype(float), geo["geolocation_lng"].astype(float)
    inside = lat.between(b["lat_min"], b["lat_max"]) & lng.between(b["lng_min"], b["lng_max"])
    out["geolocation_outside_brazil"] = (int((~inside).sum()), None)

    known_items = items[items["order_id"].isin(known)]
    order_value = (known_items["price"].astype(float) + known_items["freight_value"].astype(float)) \
        .groupby(known_items["order_id"]).sum()
    known_payments = payments[payments["order_id"].isin(known)]
    paid = known_payments["payment_value"].astype(float).groupby(known_payments["order_id"]).sum()
    per_order = pd.DataFrame({"order_id": orders["order_id"]}).set_index("order_id")
    per_order["order_value"] = order_value.reindex(per_order.index).fillna(0.0)
    per_order["paid"] = paid.reindex(per_order.index)
    per_order["has_items"] = per_order.index.isin(set(known_items["order_id"]))
    status = orders.set_index("order_id")["order_status"].str.strip().str.lower()
    per_order["is_purchase"] = ~status.reindex(per_order.index).isin(VARS["revenue_excluded_statuses"])
    with_payment = per_order[per_order["paid"].notna()]
    diff = (with_payment["paid"] - with_payment["order_value"]).round(2)
    out["orders_payment_not_equal_order_value"] = (int((diff != 0).sum()), diff[diff != 0].sum())
    no_payment = per_order[per_order["is_purchase"] & per_order["paid"].isna()]
    out["purchases_without_payment"] = (len(no_payment), no_payment["order_value"].sum())
    no_items = per_order[per_order["is_purchase"] & ~per_order["has_items"]]
    out["purchases_without_items"] = (len(no_items), no_items["paid"].fillna(0.0).sum())
    return out


def assert_exclusions_match_pandas(db_path: Path, raw_dir: Path) -> None:
    got = {rule: (rows, value) for rule, rows, value in
           query(db_path, "select rule_name, affected_rows, affected_value from data_quality_exclusions")}
    expected = expected_exclusions(raw_dir)
    assert set(got) == set(expected)
    for rule, (rows, value) in expected.items():
        assert got[rule][0] == rows, rule
        if value is None:
            assert got[rule][1] is None, rule
        else:
            assert float(got[rule][1]) == pytest.approx(value, abs=0.005), rule
    table_rows = dict(query(db_path, "select distinct table_name, table_rows from data_quality_exclusions"))
    for table, rows in table_rows.items():
        assert rows == len(read_raw(raw_dir, table)), table


def test_repairable_input_builds_with_warnings_only(allowed):
    case, _ = allowed
    assert case.run.failures() == []
    warned = {uid.split(".")[2] for uid, status in case.run.statuses().items() if status == "warn"}
    assert warned == {
        "relationships_stg_olist__order_items_order_id__order_id__ref_stg_olist__orders_",
        "relationships_stg_olist__order_payments_order_id__order_id__ref_stg_olist__orders_",
        "relationships_stg_olist__order_reviews_order_id__order_id__ref_stg_olist__orders_",
        "relationships_stg_olist__order_items_product_id__product_id__ref_stg_olist__products_",
        "data_quality_exclusion_rate_within_thresholds",
    }


def test_exclusion_rate_above_warn_rate_warns_and_lists_the_rules(allowed):
    case, _ = allowed
    assert result(case.run, "data_quality_exclusion_rate_within_thresholds")["status"] == "warn"
    assert "Got 1 result, configured to warn if >=1" in case.output
    db = case.run.db_path
    listed = query(db, 'select rule_name, threshold_level from "main_dbt_test__audit".'
                       '"data_quality_exclusion_rate_within_thresholds"')
    over = {r for (r,) in query(db, "select rule_name from data_quality_exclusions "
                                    "where outcome <> 'reported' and affected_rate > 0")}
    assert over and {rule for rule, _ in listed} == over
    assert {level for _, level in listed} == {1}


def test_every_exclusion_is_counted_as_pandas_counts_it(allowed):
    case, _ = allowed
    assert_exclusions_match_pandas(case.run.db_path, case.raw_dir)
    counted = dict(query(case.run.db_path, "select rule_name, affected_rows from data_quality_exclusions"))
    # the mutations above, seen in the mart (on top of whatever the base data already has)
    assert counted["orders_exact_duplicate_rows"] == 2
    assert counted["customers_exact_duplicate_rows"] == 1
    assert counted["order_items_exact_duplicate_rows"] == 1
    assert counted["order_payments_exact_duplicate_rows"] == 1
    assert counted["order_items_of_unknown_order"] == 2
    assert counted["order_payments_of_unknown_order"] == 1
    assert counted["order_reviews_of_unknown_order"] == 1
    assert counted["order_items_of_unknown_product"] >= 1
    assert counted["geolocation_outside_brazil"] >= 2


def test_fct_orders_holds_deduplicated_money_of_known_orders_only(allowed):
    case, _ = allowed
    orders = read_raw(case.raw_dir, "orders").drop_duplicates()
    items = read_raw(case.raw_dir, "order_items").drop_duplicates()
    payments = read_raw(case.raw_dir, "order_payments").drop_duplicates()
    known = set(orders["order_id"])
    items, payments = items[items["order_id"].isin(known)], payments[payments["order_id"].isin(known)]
    n, items_value, freight, paid = query(
        case.run.db_path, "select count(*), sum(items_value), sum(freight_value), sum(payment_value) from fct_orders"
    )[0]
    assert n == len(known) == len(orders)
    assert float(items_value) == pytest.approx(items["price"].astype(float).sum(), abs=0.005)
    assert float(freight) == pytest.approx(items["freight_value"].astype(float).sum(), abs=0.005)
    assert float(paid) == pytest.approx(payments["payment_value"].astype(float).sum(), abs=0.005)


def test_payment_mismatch_is_kept_and_reported(allowed):
    case, facts = allowed
    diff = query(case.run.db_path, "select payment_minus_order_value from fct_orders where order_id = ?",
                 [facts["mismatch_order"]])
    assert [float(d) for (d,) in diff] == [10.0]
    assert query(case.run.db_path, "select outcome from data_quality_exclusions "
                 "where rule_name = 'orders_payment_not_equal_order_value'") == [("reported",)]


def test_item_of_unknown_product_keeps_its_money_as_uncategorized(allowed):
    case, facts = allowed
    rows = query(case.run.db_path, "select main_product_category, item_count from fct_orders where order_id = ?",
                 [facts["unknown_product_order"]])
    assert rows == [("uncategorized", 1)]


def test_bom_and_crlf_are_read_transparently(allowed):
    case, _ = allowed
    assert (case.raw_dir / FILES["orders"]).read_bytes().startswith(b"\xef\xbb\xbforder_id,")
    assert b"\r\n" in (case.raw_dir / FILES["orders"]).read_bytes()
    statuses = {s for (s,) in query(case.run.db_path, "select distinct order_status from stg_olist__orders")}
    expected = set(read_raw(case.raw_dir, "orders")["order_status"].str.strip().str.lower())
    assert statuses == expected and not any("\r" in s for s in statuses)


def test_quoted_newlines_commas_and_quotes_survive(allowed):
    case, facts = allowed
    rows = query(case.run.db_path, "select review_comment_message from stg_olist__order_reviews "
                 "where review_id = ? and order_id = ?", list(facts["review"]))
    assert rows == [(REVIEW_TEXT,)]
    assert query(case.run.db_path, "select count(*) from stg_olist__order_reviews")[0][0] == \
        len(read_raw(case.raw_dir, "order_reviews").drop_duplicates())


def test_extra_unknown_column_is_ignored_even_when_its_type_changes_late(allowed):
    case, _ = allowed
    columns = {c for (c, *_rest) in query(case.run.db_path, "describe stg_olist__products")}
    assert "product_color_code" not in columns
    assert query(case.run.db_path, "select count(*) from stg_olist__products")[0][0] == \
        len(read_raw(case.raw_dir, "products")) > 20_480


def test_exclusions_match_pandas_on_clean_data(any_build):
    run, raw_dir = any_build
    assert_exclusions_match_pandas(run.db_path, raw_dir)


# ------------------------------------------------------------------------------- empty tables (every model built)

def mutate_empty_tables(raw: Path) -> None:
    for table in ("order_reviews", "geolocation", "order_payments"):
        header, _ = load(raw, table)
        save(raw, table, header, [])


# every model and seed, and of the tests only the exclusion-rate threshold (the other tests are not this case's
# subject, and skipping them keeps the build short)
ALL_MODELS_AND_THRESHOLD = [
    "--select", "resource_type:model", "resource_type:seed", "test_name:rate_within_thresholds",
    "--indirect-selection", "empty",
]


@prefetchable("bad_empty_tables", "empty_tables", __file__)
def _build_empty_tables(work: Path) -> Case:
    return build_case_in(work, mutate_empty_tables, select=ALL_MODELS_AND_THRESHOLD)


@pytest.fixture(scope="module")
def empty_tables(prefetch) -> Case:
    """Built in the background (conftest.Prefetch): it starts from no warehouse."""
    return prefetch.result("bad_empty_tables")


def test_empty_reviews_geolocation_payments_build_every_model(empty_tables):
    statuses = empty_tables.run.statuses()
    models = {uid: s for uid, s in statuses.items() if uid.startswith("model.")}
    assert models and all(s == "success" for s in models.values()), \
        {uid: s for uid, s in models.items() if s != "success"}
    db = empty_tables.run.db_path
    assert query(db, "select count(*) from fct_orders")[0][0] == len(read_raw(empty_tables.raw_dir, "orders"))
    assert query(db, "select max(payment_value), max(review_count), count(customer_lat) from fct_orders")[0] == (
        0,
        0,
        0,
    )


def test_empty_payments_fail_the_exclusion_rate_threshold(empty_tables):
    failed = {uid.split(".")[2] for uid in empty_tables.run.failures()}
    assert failed == {"data_quality_exclusion_rate_within_thresholds"}
    assert empty_tables.run.returncode != 0
    assert "Failure in test data_quality_exclusion_rate_within_thresholds" in empty_tables.output
    assert "See test failures" in empty_tables.output  # store_failures: the rows over the threshold are queryable
    rules = query(empty_tables.run.db_path, "select rule_name, affected_rate from data_quality_exclusions "
                  "where outcome <> 'reported' and affected_rate > 0")
    purchases = (~read_raw(empty_tables.raw_dir, "orders")["order_status"]
                 .isin(VARS["revenue_excluded_statuses"])).mean()
    assert dict(rules) == {"purchases_without_payment": pytest.approx(purchases)}


def test_exclusion_rate_above_error_rate_fails_with_the_level_as_its_count(empty_tables):
    """The README's error message: the count dbt prints is the highest threshold level (2), not the number of
    rules over the threshold (here one rule, purchases_without_payment)."""
    res = result(empty_tables.run, "data_quality_exclusion_rate_within_thresholds")
    assert res["status"] == "fail" and res["failures"] == 2, res
    assert "Got 2 results, configured to fail if >=2" in empty_tables.output
    listed = query(empty_tables.run.db_path, 'select rule_name, threshold_level from "main_dbt_test__audit".'
                                             '"data_quality_exclusion_rate_within_thresholds"')
    assert listed == [("purchases_without_payment", 2)]
