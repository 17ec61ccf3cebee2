"""tests/generic/columns_valid.sql: the one data test per intermediate/mart model that holds its not_null,
range, accepted-value, expression and key (unique) rules (issue 19). Planted violations in a copy of the sample
warehouse must fail the test with one stored row per broken rule, naming the rule and the column, counting the
offending rows (counted here by plain SQL or in Python, not by the macro) and giving a filter that selects exactly
those rows (for a repeated compound key holding a null: the documented exception, `in` never matches it); the
rules the plants do not break return nothing. One `dbt test` run on the copy (22 s on 2 busy cores)."""
from __future__ import annotations

import shutil
from collections import Counter

import duckdb
import pytest

from conftest import SAMPLE_DIR, query, run_dbt

AUDIT = '"main_dbt_test__audit"'
# the failing ones first, then one the plants leave alone
TESTS = ["columns_valid_customer_rfm", "columns_valid_cohort_retention", "columns_valid_int_hypotheses__customers",
         "columns_valid_segment_summary", "columns_valid_fct_orders"]
FAILING = TESTS[:4]

# (model, SQL that breaks it). Each statement picks its rows by a rule of its own so the expected counts below
# are independent of the macro.
PLANTS = [
    # not_null, and a null passes the range rule of the same column (accepted_range semantics)
    ("customer_rfm", "update customer_rfm set r_grid = null where customer_unique_id in "
                     "(select customer_unique_id from customer_rfm order by customer_unique_id limit 2)"),
    # accepted_range: above max_value
    ("customer_rfm", "update customer_rfm set r_grid = 6 where customer_unique_id in "
                     "(select customer_unique_id from customer_rfm order by customer_unique_id desc limit 3)"),
    # accepted_values (a null in the same column passes: only the bad value counts)
    ("customer_rfm", "update customer_rfm set rfm_tier = 'bogus' where customer_unique_id in "
                     "(select customer_unique_id from customer_rfm order by customer_unique_id limit 1 offset 5)"),
    # not_null, and a null passes the accepted_values rule of the same column (dbt's accepted_values)
    ("customer_rfm", "update customer_rfm set rfm_segment = null where customer_unique_id in "
                     "(select customer_unique_id from customer_rfm order by customer_unique_id limit 1 offset 7)"),
    # an expression whose result is null fails (expression_is_true)
    ("int_hypotheses__customers", "update int_hypotheses__customers set reviewed_purchases = null where "
                                  "customer_unique_id in (select customer_unique_id from int_hypotheses__customers "
                                  "order by customer_unique_id desc limit 2)"),
    # an expression with a where: only the month-0 rows are checked (retention_rate = 1 there)
    ("cohort_retention", "update cohort_retention set retention_rate = 0.9 where months_since_first = 0 "
                         "and cohort_month = (select min(cohort_month) from cohort_retention)"),
    ("cohort_retention", "update cohort_retention set retention_rate = 1 where months_since_first = 1"),
    # not_null with a per-rule where (has_complete_horizon): the nulls outside it (customers whose horizon is not
    # over yet, null by design) are allowed
    ("int_hypotheses__customers", "update int_hypotheses__customers set repeated_within_horizon = null where "
                                  "customer_unique_id in (select customer_unique_id from int_hypotheses__customers "
                                  "where has_complete_horizon order by customer_unique_id limit 2)"),
    # unique, one column: a row copied (its key twice) and two rows whose key is null (not_null counts them, the
    # unique rule leaves nulls out, as dbt's unique)
    ("customer_rfm", "insert into customer_rfm select * from customer_rfm where customer_unique_id = "
                     "(select customer_unique_id from customer_rfm order by customer_unique_id limit 1 offset 20)"),
    ("customer_rfm", "insert into customer_rfm select * replace (null as customer_unique_id) from customer_rfm "
                     "where customer_unique_id in (select customer_unique_id from customer_rfm "
                     "order by customer_unique_id limit 2 offset 30)"),
    # unique, compound key: rows copied; and one copied twice with its customer_state null (a null is a value of
    # a compound key: two rows (..., null) are duplicates)
    ("cohort_retention", "insert into cohort_retention select * from cohort_retention where cohort_month = "
                         "(select max(cohort_month) from cohort_retention) and months_since_first = 0 "
                         "and is_all_states"),
    ("segment_summary", "insert into segment_summary select * from segment_summary where customer_state = "
                        "(select max(customer_state) from segment_summary)"),
    *2 * [("segment_summary", "insert into segment_summary select * replace (null as customer_state) "
                              "from segment_summary where customer_state = (select min(customer_state) "
                              "from segment_summary) qualify row_number() over (order by churn_risk, rfm_segment, "
                              "segment) = 1")],
]

KEYS = {"customer_rfm": ["customer_unique_id"],
        "cohort_retention": ["cohort_month", "months_since_first", "first_purchase_state"],
        "segment_summary": ["churn_risk", "rfm_segment", "segment", "customer_state"]}


def repeated_key_rows(con, model: str, with_null_keys: bool) -> int:
    """Rows whose key occurs more than once, counted in Python. One-column keys leave nulls out (dbt's unique);
    compound keys count a null as a value (with_null_keys=False: only keys without a null, what `in` matches)."""
    columns = KEYS[model]
    keys = [tuple(row) for row in con.execute(f"select {', '.join(columns)} from {model}").fetchall()]
    if len(columns) == 1 or not with_null_keys:
        keys = [key for key in keys if None not in key]
    counts = Counter(keys)
    return sum(n for n in counts.values() if n > 1)


@pytest.fixture(scope="module")
def planted(sample_build, tmp_path_factory):
    work = tmp_path_factory.mktemp("columns_valid")
    db = work / "warehouse.duckdb"
    shutil.copyfile(sample_build.db_path, db)
    with duckdb.connect(str(db)) as con:
        for _, sql in PLANTS:
            con.execute(sql)
        # the reference: each rule's offending rows, counted by hand
        count = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        expected = {
            ("columns_valid_customer_rfm", "not_null", "r_grid"):
                count("select count(*) from customer_rfm where r_grid is null"),
            ("columns_valid_customer_rfm", "accepted_range", "r_grid"):
                count("select count(*) from customer_rfm where r_grid < 1 or r_grid > 5"),
            ("columns_valid_customer_rfm", "accepted_values", "rfm_tier"):
                count("select count(*) from customer_rfm where rfm_tier not in ('high', 'medium', 'low')"),
            ("columns_valid_customer_rfm", "not_null", "rfm_segment"):
                count("select count(*) from customer_rfm where rfm_segment is null"),
            ("columns_valid_int_hypotheses__customers", "expression_is_true", None):
                count("select count(*) from int_hypotheses__customers "
                      "where reviewed_purchases is null or reviewed_purchases > purchase_count"),
            ("columns_valid_cohort_retention", "expression_is_true", None):
                count("select count(*) from cohort_retention where months_since_first = 0 "
                      "and not (retention_rate = 1 and active_customers = cohort_size)"),
            ("columns_valid_int_hypotheses__customers", "not_null", "repeated_within_horizon"):
                count("select count(*) from int_hypotheses__customers "
                      "where has_complete_horizon and repeated_within_horizon is null"),
        }
        for model in KEYS:
            column = ", ".join(KEYS[model])
            expected[(f"columns_valid_{model}", "unique", column)] = repeated_key_rows(con, model, True)
        expected[("columns_valid_customer_rfm", "not_null", "customer_unique_id")] = count(
            "select count(*) from customer_rfm where customer_unique_id is null")
        in_matches = {model: repeated_key_rows(con, model, False) for model in KEYS}
        allowed_nulls = count("select count(*) from int_hypotheses__customers "
                              "where not has_complete_horizon and repeated_within_horizon is null")
    run = run_dbt(["test", "--select", *TESTS, "--store-failures"], db, work, {"raw_data_dir": str(SAMPLE_DIR)})
    return run, expected, allowed_nulls, in_matches


def test_planted_violations_fail_their_rule_and_nothing_else(planted):
    run, expected, allowed_nulls, in_matches = planted
    assert all(n > 0 for n in expected.values()), expected  # every plant took
    assert allowed_nulls > 0  # and the where of the not_null rule had something to let through
    # the copies with a null key: 2 more rows than the key rows `in` can match (2 null customer_unique_id rows
    # of customer_rfm are not a repeated key; the 2 segment_summary rows with a null state are)
    assert expected[("columns_valid_segment_summary", "unique", ", ".join(KEYS["segment_summary"]))] == \
        in_matches["segment_summary"] + 2
    statuses = {uid.split(".")[2]: status for uid, status in run.statuses().items()}
    assert statuses == {name: "fail" for name in FAILING} | {"columns_valid_fct_orders": "pass"}, run.output[-3000:]
    got = {}
    for name in FAILING:
        for rule, column, failing_rows, _ in query(run.db_path, f"select * from {AUDIT}.{name}"):
            got[(name, rule, column)] = failing_rows
    assert got == expected
    # dbt's count is the number of broken rules
    assert "Got 6 results, configured to fail if != 0" in run.output  # customer_rfm


def test_failing_rows_where_selects_the_offending_rows(planted):
    run, _, _, in_matches = planted
    for name in FAILING:
        model = name.removeprefix("columns_valid_")
        for rule, _column, failing_rows, where in query(run.db_path, f"select * from {AUDIT}.{name}"):
            if rule == "unique":  # `in` matches the repeated keys without a null
                failing_rows = in_matches[model]
            assert query(run.db_path, f"select count(*) from {model} where {where}")[0][0] == failing_rows, where
