#!/usr/bin/env python3
"""A deterministic *dirty* export in the Olist layout: every repair/exclusion rule of the README fires.

    python scripts/make_dirty_olist.py --out /tmp/olist_dirty              # 400 customers, seed 17
    python scripts/make_dirty_olist.py --out /tmp/olist_dirty --customers 2000 --seed 3

or, from Python, ``make_dirty(out_dir, customers, seed) -> planted`` (see PLANTED below).

It writes a small clean export with scripts/generate_olist.py (the same seed gives the same files), then plants,
at fixed positions chosen by rules (never at random), every defect that the build repairs, excludes or reports
("What is checked, and what happens" in the README), and the text quirks the reader must absorb:

- exact duplicate rows in the eight files that have the rule (one verbatim copy, and in most files a second copy
  that differs only in what staging normalises: padded ids, upper-case status / payment type / city, lower-case
  state, upper-case category): they are the same row once normalised, so the build keeps one; and a repeated
  geolocation point, which is not a duplicate (every point counts in its prefix's median) and is not counted;
- padded ids (order_id, customer_id, customer_unique_id, product_id, seller_id, review_id), mixed-case order
  statuses (including a ' CANCELED ' that must stay a non-purchase) and payment types, lower-case states,
  upper-case cities, a zip prefix that lost its leading zero;
- items of unknown products, items of unknown sellers; items, payments and reviews of unknown orders;
- customers without orders; purchases without payment; purchases without items; payments != items + freight;
- geolocation points outside Brazil (far away, without coordinates, just east of the box);
- a multi-line quoted review comment with commas and quotes, a UTF-8 BOM and CRLF line ends.

Every rate stays under the default error_rate of data_quality_thresholds (10 %), so `dbt build` on the result
succeeds with warnings only. The planted counts are written to PLANTED.json next to the files: for each rule of
data_quality_exclusions, how many rows (and how much money, in cents) the planting added on top of what the clean
generated export already has.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root: package customer_segmentation

from customer_segmentation.data.olist import FILES  # noqa: E402  (the nine Olist file names, from the sources YAML)

_spec = importlib.util.spec_from_file_location("generate_olist", Path(__file__).with_name("generate_olist.py"))
generate_olist = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate_olist)
REVIEW_TEXT = 'Chegou rápido,\nmas a caixa veio "amassada", nota 3\r\nrecomendo'
# files written with a UTF-8 BOM, with CRLF line ends
BOM_FILES = ("orders", "customers", "order_reviews")
CRLF_FILES = ("orders", "order_reviews", "order_payments")


def _pad(value: str) -> str:
    return f"  {value} "


def _cents(value: str) -> int:
    return int(Decimal(value) * 100)


class _Table:
    def __init__(self, raw_dir: Path, name: str):
        with open(raw_dir / FILES[name], encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        self.name, self.header, self.rows = name, rows[0], rows[1:]
        self.col = {c: i for i, c in enumerate(self.header)}

    def get(self, row, column):
        return row[self.col[column]]

    def set(self, row, column, value):
        row[self.col[column]] = value

    def new(self, **values) -> list[str]:
        return [values.get(c, "") for c in self.header]

    def save(self, raw_dir: Path) -> None:
        line_end = "\r\n" if self.name in CRLF_FILES else "\n"
        with open(raw_dir / FILES[self.name], "w", encoding="utf-8", newline="") as f:
            if self.name in BOM_FILES:
                f.write("\ufeff")
            csv.writer(f, lineterminator=line_end).writerows([self.header, *self.rows])


def make_dirty(out_dir, customers: int = 400, seed: int = 17) -> dict:
    """Write the dirty export to out_dir; returns (and writes to PLANTED.json) what was planted."""
    out = Path(out_dir)
    generate_olist.generate(customers, seed, out)
    t = {name: _Table(out, name) for name in FILES}
    orders, items, payments, reviews = t["orders"], t["order_items"], t["order_payments"], t["order_reviews"]
    customers_t, products, sellers, geo = t["customers"], t["products"], t["sellers"], t["geolocation"]
    translation = t["category_translation"]
    planted: dict[str, dict] = defaultdict(lambda: {"rows": 0, "cents": 0})
    facts: dict = {}

    def plant(rule: str, rows: int = 1, cents: int = 0) -> None:
        planted[rule]["rows"] += rows
        planted[rule]["cents"] += cents

    # order shapes of the clean export, to pick rows whose defect has a known effect
    item_rows = defaultdict(list)
    for r in items.rows:
        item_rows[items.get(r, "order_id")].append(r)
    pay_rows = defaultdict(list)
    for r in payments.rows:
        pay_rows[payments.get(r, "order_id")].append(r)
    status = {orders.get(r, "order_id"): orders.get(r, "order_status") for r in orders.rows}
    order_value = {o: sum(_cents(items.get(r, "price")) + _cents(items.get(r, "freight_value")) for r in rs)
                   for o, rs in item_rows.items()}

    def simple_delivered():
        """Delivered orders with one item and one payment that equals items + freight, in file order."""
        for r in orders.rows:
            o = orders.get(r, "order_id")
            if (status[o] == "delivered" and len(item_rows.get(o, [])) == 1 and len(pay_rows.get(o, [])) == 1
                    and _cents(payments.get(pay_rows[o][0], "payment_value")) == order_value[o]):
                yield o

    simple = simple_delivered()
    used = set()

    def take():
        o = next(simple)
        used.add(o)
        return o

    # --- purchases without payment: three delivered orders lose their (only) payment row
    no_payment = [take() for _ in range(3)]
    payments.rows = [r for r in payments.rows if payments.get(r, "order_id") not in no_payment]
    plant("purchases_without_payment", 3, sum(order_value[o] for o in no_payment))
    facts["orders_without_payment"] = no_payment

    # --- purchases without items: two delivered orders lose their (only) item; their payment now differs from
    # items + freight (0) by the whole payment
    no_items = [take() for _ in range(2)]
    items.rows = [r for r in items.rows if items.get(r, "order_id") not in no_items]
    no_items_paid = sum(_cents(payments.get(pay_rows[o][0], "payment_value")) for o in no_items)
    plant("purchases_without_items", 2, no_items_paid)
    plant("orders_payment_not_equal_order_value", 2, no_items_paid)
    facts["orders_without_items"] = no_items

    # --- payments != items + freight: two orders pay 5.00 and 0.37 more than items + freight
    for o, extra in zip([take(), take()], ("5.00", "0.37")):
        row = pay_rows[o][0]
        payments.set(row, "payment_value", str(Decimal(payments.get(row, "payment_value")) + Decimal(extra)))
        plant("orders_payment_not_equal_order_value", 1, _cents(extra))
    facts["overpaid_orders"] = sorted(used - set(no_payment) - set(no_items))

    # --- items of unknown products (one order entirely: its category is 'uncategorized') and unknown sellers
    o = take()
    row = item_rows[o][0]
    items.set(row, "product_id", "product_not_in_products_file")
    plant("order_items_of_unknown_product", 1, order_value[o])
    facts["uncategorized_order"] = o
    multi = [rs for o, rs in item_rows.items() if len(rs) >= 2 and o not in used]
    for row in (multi[0][1], multi[1][0]):
        items.set(row, "product_id", "another_unknown_product")
        plant(
            "order_items_of_unknown_product",
            1,
            _cents(items.get(row, "price")) + _cents(items.get(row, "freight_value")),
        )
    o = take()
    row = item_rows[o][0]
    items.set(row, "seller_id", "seller_not_in_sellers_file")
    plant("order_items_of_unknown_seller", 1, order_value[o])
    facts["unknown_seller_order"] = o
    row = multi[2][0]
    items.set(row, "seller_id", "seller_not_in_sellers_file")
    plant("order_items_of_unknown_seller", 1, _cents(items.get(row, "price")) + _cents(items.get(row, "freight_value")))

    # --- items, payments, reviews of unknown orders
    for i, src in enumerate(items.rows[10:12], start=1):
        orphan = list(src)
        items.set(orphan, "order_id", "order_not_in_orders_file")
        items.set(orphan, "order_item_id", str(i))
        items.rows.append(orphan)
        plant("order_items_of_unknown_order", 1,
              _cents(items.get(orphan, "price")) + _cents(items.get(orphan, "freight_value")))
    for i, src in enumerate(payments.rows[10:12], start=1):
        orphan = list(src)
        payments.set(orphan, "order_id", "payment_of_order_not_in_orders_file")
        payments.set(orphan, "payment_sequential", str(i))
        payments.rows.append(orphan)
        plant("order_payments_of_unknown_order", 1, _cents(payments.get(orphan, "payment_value")))
    for src in reviews.rows[10:12]:
        orphan = list(src)
        reviews.set(orphan, "order_id", "review_of_order_not_in_orders_file")
        reviews.rows.append(orphan)
        plant("order_reviews_of_unknown_order")

    # --- customers without orders: three customer_id rows no order refers to (one of a known person)
    known_person = customers_t.get(customers_t.rows[0], "customer_unique_id")
    for i, person in enumerate(["person_without_orders_1", "person_without_orders_2", known_person], start=1):
        customers_t.rows.append(customers_t.new(
            customer_id=f"customer_without_orders_{i}", customer_unique_id=person, customer_zip_code_prefix="01310",
            customer_city="sao paulo", customer_state="SP"))
        plant("customers_without_orders")

    # --- normalisation of rows that are not duplicates: padded ids, mixed case, a zip without its leading zero
    normal = [r for r in orders.rows if orders.get(r, "order_id") not in used]
    orders.set(normal[0], "order_status", " " + orders.get(normal[0], "order_status").upper() + " ")
    orders.set(normal[1], "order_status", orders.get(normal[1], "order_status").capitalize())
    orders.set(normal[2], "order_id", _pad(orders.get(normal[2], "order_id")))
    orders.set(normal[3], "customer_id", _pad(orders.get(normal[3], "customer_id")))
    canceled = next(r for r in orders.rows if orders.get(r, "order_status") == "canceled")
    orders.set(canceled, "order_status", " CANCELED ")
    facts["upper_canceled_order"] = orders.get(canceled, "order_id").strip()
    items.set(items.rows[20], "order_id", _pad(items.get(items.rows[20], "order_id")))
    items.set(items.rows[21], "product_id", _pad(items.get(items.rows[21], "product_id")))
    items.set(items.rows[22], "seller_id", _pad(items.get(items.rows[22], "seller_id")))
    payments.set(payments.rows[20], "order_id", _pad(payments.get(payments.rows[20], "order_id")))
    payments.set(payments.rows[21], "payment_type", payments.get(payments.rows[21], "payment_type").upper())
    reviews.set(reviews.rows[20], "order_id", _pad(reviews.get(reviews.rows[20], "order_id")))
    reviews.set(reviews.rows[3], "review_comment_message", REVIEW_TEXT)
    facts["multiline_review"] = [reviews.get(reviews.rows[3], "review_id"), reviews.get(reviews.rows[3], "order_id")]
    c = customers_t
    c.set(c.rows[30], "customer_id", _pad(c.get(c.rows[30], "customer_id")))
    c.set(c.rows[31], "customer_unique_id", _pad(c.get(c.rows[31], "customer_unique_id")))
    c.set(c.rows[32], "customer_state", " " + c.get(c.rows[32], "customer_state").lower())
    c.set(c.rows[33], "customer_city", c.get(c.rows[33], "customer_city").upper() + " ")
    zero_zip = next(r for r in c.rows if c.get(r, "customer_zip_code_prefix").startswith("0"))
    c.set(zero_zip, "customer_zip_code_prefix", c.get(zero_zip, "customer_zip_code_prefix")[1:])
    facts["short_zip_customer"] = c.get(zero_zip, "customer_id").strip()
    products.set(products.rows[5], "product_id", _pad(products.get(products.rows[5], "product_id")))
    sellers.set(sellers.rows[3], "seller_state", sellers.get(sellers.rows[3], "seller_state").lower())

    # --- exact duplicate rows: a verbatim copy, and a copy that differs only in what staging normalises
    def duplicate(table: _Table, row, *, money: int = 0, **changes) -> None:
        copy = list(row)
        for column, change in changes.items():
            table.set(copy, column, change(table.get(copy, column)))
        table.rows.append(copy)
        plant(f"{table.name}_exact_duplicate_rows", 1, money)

    def item_money(r):
        return _cents(items.get(r, "price")) + _cents(items.get(r, "freight_value"))

    duplicate(orders, orders.rows[0])
    duplicate(orders, orders.rows[1], order_id=_pad, order_status=str.upper)
    duplicate(customers_t, c.rows[0])
    duplicate(customers_t, c.rows[1], customer_id=_pad, customer_city=str.upper, customer_state=str.lower)
    duplicate(items, items.rows[0], money=item_money(items.rows[0]))
    duplicate(items, items.rows[1], money=item_money(items.rows[1]), order_id=_pad, seller_id=_pad)
    duplicate(payments, payments.rows[0], money=_cents(payments.get(payments.rows[0], "payment_value")))
    duplicate(payments, payments.rows[1], money=_cents(payments.get(payments.rows[1], "payment_value")),
              order_id=_pad, payment_type=str.upper)
    duplicate(reviews, reviews.rows[0])
    duplicate(reviews, reviews.rows[1], review_id=_pad)
    duplicate(reviews, reviews.rows[3])  # the multi-line comment, twice
    duplicate(products, products.rows[0])
    duplicate(products, products.rows[1], product_id=_pad,
              product_category_name=lambda v: v.upper())
    duplicate(sellers, sellers.rows[0], seller_id=_pad, seller_state=str.lower)  # 1 of ~14 rows: 7 %, warns
    duplicate(translation, translation.rows[0], product_category_name=lambda v: " " + v.upper())

    # geolocation has no duplicate rule: a repeated point is one more point of its prefix's median (not counted)
    geo.rows.append(list(geo.rows[0]))

    # --- geolocation outside Brazil: Madrid, no coordinates, just east of the box (lng -34.5 > -34.7)
    for lat, lng in (("40.4168", "-3.7038"), ("", ""), ("-7.1", "-34.5")):
        geo.rows.append(geo.new(geolocation_zip_code_prefix="01310", geolocation_lat=lat, geolocation_lng=lng,
                                geolocation_city="fora do brasil", geolocation_state="SP"))
        plant("geolocation_outside_brazil")

    for table in t.values():
        table.save(out)
    result = {"customers": customers, "seed": seed, "rules": dict(planted), "facts": facts,
              "bom_files": [FILES[n] for n in BOM_FILES], "crlf_files": [FILES[n] for n in CRLF_FILES],
              "review_text": REVIEW_TEXT}
    (out / "PLANTED.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    planted = make_dirty(args.out, args.customers, args.seed)
    for rule, p in sorted(planted["rules"].items()):
        print(f"{p['rows']:>4} rows {p['cents'] / 100:>10.2f}  {rule}")
    print(f"dirty export of {args.customers} customers (seed {args.seed}) in {args.out}; see PLANTED.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
