"""Tests of the engine scripts without the engines (issue 18): no Spark JVM, no PostgreSQL server.

- scripts/compare_engines.py on two DuckDB warehouses: copies of the session sample build, one of them with planted
  differences (a changed value, a deleted row, an extra column, a dropped mart, a change below the tolerance).
  The expected keys and values are read from the copy with plain SQL, not through the script.
- scripts/load_raw.py's file checks: a broken copy of the sample fails with the messages of the DuckDB source test
  raw_csv_is_readable (the fragments test_bad_input.py expects of it) and exit 1, before any connection: the
  loaders of both engines are replaced by functions that fail the test if called.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

import compare_engines
import load_raw
from conftest import SAMPLE_DIR
from raw_olist import FILES

# ------------------------------------------------------------------------------------------- compare_engines.py

@pytest.fixture(scope="module")
def warehouses(sample_build, tmp_path_factory):
    """(manifest, the sample build, an unchanged copy, a copy with planted differences, what was planted)."""
    work = tmp_path_factory.mktemp("compare_engines")
    same, planted = work / "same.duckdb", work / "planted.duckdb"
    shutil.copyfile(sample_build.db_path, same)
    shutil.copyfile(sample_build.db_path, planted)
    with duckdb.connect(str(planted)) as con:
        order_id, order_value = con.execute(
            "select order_id, order_value from fct_orders where order_value is not null order by order_id limit 1"
        ).fetchone()
        con.execute("update fct_orders set order_value = order_value + 1 where order_id = ?", [order_id])
        (deleted,) = con.execute("select max(customer_unique_id) from customer_abc_xyz").fetchone()
        con.execute("delete from customer_abc_xyz where customer_unique_id = ?", [deleted])
        (abc_rows,) = con.execute("select count(*) from customer_abc_xyz").fetchone()
        # 1e-9 relative: below the comparison's 6 decimals, must not count as a difference
        con.execute(
            "update customer_rfm set monetary = monetary * (1 + 1e-9)"
            " where customer_unique_id = (select min(customer_unique_id) from customer_rfm)"
        )
        con.execute("alter table cohort_retention add column planted_extra integer default 1")
        con.execute("drop table dim_customers")
    manifest = sample_build.db_path.parent / "target" / "manifest.json"
    return manifest, sample_build.db_path, same, planted, {
        "order_id": order_id, "order_value": order_value, "deleted": deleted, "abc_rows": abc_rows,
    }


def trimmed_manifest(manifest: Path, marts: set[str], out: Path) -> Path:
    """The manifest with only these marts and their tests (whose unique tests give compare_engines the keys)."""
    full = json.loads(manifest.read_text())
    keep = {
        uid: node for uid, node in full["nodes"].items()
        if node.get("name") in marts or (node.get("attached_node") or "").split(".")[-1] in marts
    }
    out.write_text(json.dumps({**full, "nodes": keep}))
    return out


def run_compare(capsys, manifest, left, right, *extra) -> tuple[int, str]:
    code = compare_engines.main(
        ["--left", f"duckdb:{left}", "--right", f"duckdb:{right}", "--manifest", str(manifest), *extra]
    )
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_compare_reports_equal_warehouses_as_equal(warehouses, capsys):
    manifest, built, same, _, _ = warehouses
    code, output = run_compare(capsys, manifest, built, same, "--require-all")
    with duckdb.connect(str(built), read_only=True) as con:
        n_marts = len([m for m in compare_engines.marts_and_keys(manifest)
                       if con.execute("select count(*) from information_schema.tables where table_name = ?",
                                      [m]).fetchone()[0]])
    assert code == 0, output
    assert f"compare_engines: {n_marts} marts compared" in output and ": 0 differences" in output
    assert "DIFFERS" not in output and "not built" not in output


def test_compare_names_mart_column_and_first_differing_key(warehouses, tmp_path, capsys):
    manifest, built, _, planted, p = warehouses
    # the planted marts only (the full comparison is the test above)
    marts = {"fct_orders", "customer_abc_xyz", "customer_rfm", "cohort_retention", "dim_customers"}
    code, output = run_compare(capsys, trimmed_manifest(manifest, marts, tmp_path / "manifest.json"), built, planted)
    assert code == 1
    left, right = f"duckdb:{built}", f"duckdb:{planted}"
    assert "compare_engines: fct_orders: DIFFERS" in output
    assert (f"fct_orders.order_value: first differing key (order_id={p['order_id']}): "
            f"{left} {p['order_value']} vs {right} {p['order_value'] + 1}") in output
    assert "compare_engines: customer_abc_xyz: DIFFERS" in output
    assert f"customer_abc_xyz: {p['abc_rows'] + 1} rows on {left}, {p['abc_rows']} on {right}" in output
    assert f"customer_abc_xyz: key (customer_unique_id={p['deleted']}) on {left} only (1 keys)" in output
    assert (f"cohort_retention: columns differ (only {left}: []; only {right}: ['planted_extra'])") in output
    assert "compare_engines: customer_rfm: same" in output  # the 1e-9 change is within the tolerance
    assert f"not built on {right} (1): dim_customers" in output
    assert "4 marts compared" in output
    # each planted difference is reported once, and nothing else
    assert output.count("DIFFERENCE") == 4, output


def test_compare_require_all_fails_on_a_missing_mart(warehouses, tmp_path, capsys):
    manifest, built, _, planted, _ = warehouses
    # only the dropped mart and an unchanged one in the manifest: the missing mart alone decides the exit code
    small = trimmed_manifest(manifest, {"dim_customers", "input_summary"}, tmp_path / "manifest.json")
    code, output = run_compare(capsys, small, built, planted)
    assert code == 0 and "1 marts compared" in output and "not built" in output
    code, output = run_compare(capsys, small, built, planted, "--require-all")
    assert code == 1 and f"DIFFERENCE 1 marts not built on duckdb:{planted}" in output


# ---------------------------------------------------------------------------------------------------- load_raw.py

def copy_sample(dst: Path) -> Path:
    dst.mkdir()
    for name in FILES.values():
        shutil.copyfile(SAMPLE_DIR / name, dst / name)
    return dst


def _rewrite(path: Path, edit) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(edit(lines)), encoding="utf-8")


def _drop_column(lines: list[str], column: str) -> list[str]:
    # the sample's products file has no quoted commas: a plain split is exact here
    header = [c.strip().strip('"') for c in lines[0].rstrip("\r\n").split(",")]
    i = header.index(column)
    return [",".join(v for j, v in enumerate(line.rstrip("\r\n").split(",")) if j != i) + "\n" for line in lines]


def _set_payment_value(lines: list[str], row: int, value: str) -> list[str]:
    header = [c.strip('"') for c in lines[0].rstrip("\r\n").split(",")]
    fields = lines[row].rstrip("\r\n").split(",")
    fields[header.index("payment_value")] = value
    return lines[:row] + [",".join(fields) + "\n"] + lines[row + 1:]


CASES = {
    "missing_file": (
        lambda raw: (raw / FILES["category_translation"]).unlink(),
        lambda raw: ["raw file not found: " + str(raw / FILES["category_translation"])],
    ),
    "empty_file": (
        lambda raw: (raw / FILES["sellers"]).write_bytes(b""),
        lambda raw: ["raw file is empty (no header row): " + str(raw / FILES["sellers"])],
    ),
    "missing_column": (
        lambda raw: _rewrite(raw / FILES["products"], lambda lines: _drop_column(lines, "product_weight_g")),
        lambda raw: ["olist_products_dataset.csv is missing required column(s): product_weight_g."],
    ),
    # the value "12,90" is quoted so the file stays well-formed CSV; line 9 of the file is data row 8
    "unparsable_value": (
        lambda raw: _rewrite(raw / FILES["order_payments"], lambda lines: _set_payment_value(lines, 8, '"12,90"')),
        lambda raw: ['Error when converting column "payment_value"', '"12,90"', "CSV Error on Line: 9",
                     str(raw / FILES["order_payments"])],
    ),
}


@pytest.mark.parametrize("target", ["postgres", "spark"])
@pytest.mark.parametrize("case", list(CASES))
def test_load_raw_checks_files_before_connecting(case, target, tmp_path, monkeypatch, capsys):
    raw = copy_sample(tmp_path / "raw")
    mutate, fragments = CASES[case]
    mutate(raw)

    def must_not_connect(*args, **kwargs):
        raise AssertionError("load_raw connected to the warehouse before its file checks failed")

    monkeypatch.setattr(load_raw, "load_postgres", must_not_connect)
    monkeypatch.setattr(load_raw, "load_spark", must_not_connect)
    code = load_raw.main(["--target", target, "--raw-dir", str(raw)])
    err = capsys.readouterr().err
    assert code == 1
    for fragment in fragments(raw):
        assert fragment in err, f"{fragment!r} not in: {err}"


def test_load_raw_reads_a_good_sample_into_the_loader(tmp_path, monkeypatch, capsys):
    """The good sample passes the checks and reaches the loader with every source table, typed as DuckDB reads it."""
    seen = {}

    def fake_loader(tables, schema):
        seen["schema"] = schema
        seen["tables"] = {t.name: (dict(t.columns), sum(1 for _ in open(t.csv_copy, encoding="utf-8")) - 1)
                          for t in tables}

    monkeypatch.setattr(load_raw, "load_postgres", fake_loader)
    assert load_raw.main(["--target", "postgres", "--raw-dir", str(SAMPLE_DIR)]) == 0
    assert seen["schema"] == "olist" and set(seen["tables"]) == set(FILES)
    columns, rows = seen["tables"]["order_items"]
    assert columns["price"] == "DECIMAL(18,2)" and columns["shipping_limit_date"] == "TIMESTAMP"
    with duckdb.connect() as con:
        (expected,) = con.execute(
            "select count(*) from read_csv(?, header = true)", [str(SAMPLE_DIR / FILES["order_items"])]
        ).fetchone()
    assert rows == expected


def test_load_raw_transactions_layout_loads_the_lines_as_text(tmp_path, monkeypatch, capsys):
    """--input-format transactions: table `lines` holds every line of every file of the glob, as text (CSV), beside
    the header-only Olist tables the DuckDB sources read in that layout; a path that matches no file stops first."""
    folder = tmp_path / "lines"
    folder.mkdir()
    (folder / "a.csv").write_text("Invoice,Cust,When,Amount\nA1,c1,2011-01-05 08:26,12.50\nA2,,2011-01-06,\n")
    (folder / "b.csv").write_text("Invoice,Cust,When,Amount\nC3,c2,1/5/2011,-3\n")
    seen = {}

    def fake_loader(tables, schema):
        seen.update({t.name: (dict(t.columns), list(csv.reader(open(t.csv_copy, encoding="utf-8")))) for t in tables})

    monkeypatch.setattr(load_raw, "load_postgres", fake_loader)
    args = ["--target", "postgres", "--input-format", "transactions", "--transactions-path", str(folder / "*.csv")]
    assert load_raw.main(args) == 0
    columns, rows = seen["lines"]
    assert columns == {"Invoice": "VARCHAR", "Cust": "VARCHAR", "When": "VARCHAR", "Amount": "VARCHAR"}
    assert sorted(rows[1:]) == [["A1", "c1", "2011-01-05 08:26", "12.50"], ["A2", "", "2011-01-06", ""],
                                ["C3", "c2", "1/5/2011", "-3"]]
    assert set(seen) == set(FILES) | {"lines"}
    assert all(len(rows) == 1 for name, (_, rows) in seen.items() if name != "lines")  # header only

    def must_not_connect(*args, **kwargs):
        raise AssertionError("load_raw connected before its file checks failed")

    monkeypatch.setattr(load_raw, "load_postgres", must_not_connect)
    missing = [
        "--target",
        "postgres",
        "--input-format",
        "transactions",
        "--transactions-path",
        str(tmp_path / "no*.csv"),
    ]
    capsys.readouterr()
    assert load_raw.main(missing) == 1
    assert f"transactions file not found: {tmp_path / 'no*.csv'} (var transactions_path)" in capsys.readouterr().err
