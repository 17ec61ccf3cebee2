"""tests/generic/columns_valid.sql: the one data test per intermediate/mart model that holds its not_null,
range, accepted-value and expression rules (issue 19). Planted violations in a copy of the sample warehouse
must fail the test with one stored row per broken rule, naming the rule and the column, counting the offending
rows (counted here by plain SQL, not by the macro) and giving a filter that selects exactly those rows; the
rules the plants do not break return nothing. One `dbt test` run on the copy (22 s on 2 busy cores)."""
from __future__ import annotations

import shutil

import duckdb
import pytest

from conftest import SAMPLE_DIR, query, run_dbt

AUDIT = '"main_dbt_test__audit"'
TESTS = ["columns_valid_customer_rfm", "columns_valid_cohort_retention", "columns_valid_int_hypotheses__customers",
         "columns_valid_fct_orders"]

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
]


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
        allowed_nulls = count("select count(*) from int_hypotheses__customers "
                              "where not has_complete_horizon and repeated_within_horizon is null")
    run = run_dbt(["test", "--select", *TESTS, "--store-failures"], db, work, {"raw_data_dir": str(SAMPLE_DIR)})
    return run, expected, allowed_nulls


def test_planted_violations_fail_their_rule_and_nothing_else(planted):
    run, expected, allowed_nulls = planted
    assert all(n > 0 for n in expected.values()), expected  # every plant took
    assert allowed_nulls > 0  # and the where of the not_null rule had something to let through
    statuses = {uid.split(".")[2]: status for uid, status in run.statuses().items()}
    assert statuses == {name: "fail" for name in TESTS[:3]} | {"columns_valid_fct_orders": "pass"}, run.output[-3000:]
    got = {}
    for name in TESTS[:3]:
        for rule, column, failing_rows, _ in query(run.db_path, f"select * from {AUDIT}.{name}"):
            got[(name, rule, column)] = failing_rows
    assert got == expected
    # dbt's count is the number of broken rules
    assert "Got 4 results, configured to fail if != 0" in run.output  # customer_rfm


def test_failing_rows_where_selects_the_offending_rows(planted):
    run, expected, _ = planted
    for name, model in [("columns_valid_customer_rfm", "customer_rfm"),
                        ("columns_valid_cohort_retention", "cohort_retention"),
                        ("columns_valid_int_hypotheses__customers", "int_hypotheses__customers")]:
        for _rule, _column, failing_rows, where in query(run.db_path, f"select * from {AUDIT}.{name}"):
            assert query(run.db_path, f"select count(*) from {model} where {where}")[0][0] == failing_rows, where
