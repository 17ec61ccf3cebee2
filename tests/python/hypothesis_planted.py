"""A small planted Olist export (nine CSV files) on which each fix of issue 15, part 5, changes a hypothesis.

Deterministic (no randomness beyond a fixed-seed search for H02's product counts). What is planted, and what the
old hypothesis_results (before the hypotheses became models) got wrong on it:

- horizon (H03, H08, H11, H12): 300 customers first buy in 2018-Q1, too late for a 180-day horizon before the
  analysis date (2018-04-01); 20 cheap first-buyers buy again 250 days later (outside the horizon); 10 place a
  second order on their first day (not a repeat). The old code counted every customer and every second order.
- H03 min group size: exactly 27 customers with a complete horizon did not review their first purchase, and none
  of them bought again (a zero-variance group the old code called "supported").
- H09: every purchase falls in 08:00-21:59, evenly over the hours: the claimed 10-16 window beats a 24-hour
  uniform share (old: supported) but not the other daytime windows.
- H16: review scores do not depend on the month within 2017 (the one complete year); 2018-Q1 orders all score 5.
  Pooling years made January-March look better (old: supported).
- H10 minimum effect: Mondays carry 8/46 and weekend days 5/46 of the 2017 orders: significant with ~3,000
  orders, but Cohen's h < 0.2 (old: supported, no minimum effect for shares).
- H02 multiplicity: 80 products whose photo count correlates with their orders at r ~ 0.3, raw p ~ 0.01: the old
  verdict (|r| >= 0.1 and CI excludes 0) said supported; after Holm across the hypotheses with data it is not.
"""
from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import numpy as np
from scipy import stats

from customer_segmentation.data.olist import FILES  # table -> the CSV file name the sources read

# header of each table's file (the planted export writes these seven; sellers and translation are copied)
HEADERS = {
    "orders": ["order_id", "customer_id", "order_status", "order_purchase_timestamp",
                                 "order_approved_at", "order_delivered_carrier_date",
                                 "order_delivered_customer_date", "order_estimated_delivery_date"],
    "order_items": ["order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date",
                                      "price", "freight_value"],
    "order_payments": ["order_id", "payment_sequential", "payment_type", "payment_installments",
                                         "payment_value"],
    "order_reviews": ["review_id", "order_id", "review_score", "review_comment_title",
                                        "review_comment_message", "review_creation_date", "review_answer_timestamp"],
    "customers": ["customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city",
                                    "customer_state"],
    "products": ["product_id", "product_category_name", "product_name_lenght",
                                   "product_description_lenght", "product_photos_qty", "product_weight_g",
                                   "product_length_cm", "product_height_cm", "product_width_cm"],
    "geolocation": ["geolocation_zip_code_prefix", "geolocation_lat", "geolocation_lng",
                                      "geolocation_city", "geolocation_state"],
}
N_PRODUCTS = 80
FMT = "%Y-%m-%d %H:%M:%S"


def _product_orders(total_min: int, total_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Photos and order counts per product with Fisher-z p of r in [0.004, 0.012] and r >= 0.15."""
    photos = 1 + np.arange(N_PRODUCTS) % 8
    for seed in range(10_000):
        rng = np.random.default_rng(seed)
        counts = np.round(40 + 1.0 * photos + rng.normal(0, 7, N_PRODUCTS)).astype(int)
        r = np.corrcoef(photos, counts)[0, 1]
        p = 2 * stats.norm.sf(abs(np.arctanh(r)) * np.sqrt(N_PRODUCTS - 3))
        if r >= 0.15 and 0.004 <= p <= 0.012 and total_min <= counts.sum() <= total_max and counts.min() > 0:
            return photos, counts
    raise RuntimeError("no seed gives the planted H02 correlation")


def write_planted(raw_dir: Path, sample_dir: Path) -> dict:
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name in (FILES["sellers"], FILES["category_translation"]):
        shutil.copy(sample_dir / name, raw_dir / name)
    with open(sample_dir / FILES["sellers"], newline="", encoding="utf-8-sig") as fh:
        sellers = [row["seller_id"] for row in csv.DictReader(fh)]

    orders = []  # dicts: customer, at, price, city, reviewed, score, payment_type

    def add(customer, at, price, city="campinas", reviewed=True, score=None):
        orders.append({"customer": customer, "at": at, "price": price, "city": city, "reviewed": reviewed,
                       "score": score})

    # filler: one-time buyers through 2017, Monday 8, Tuesday-Friday 7, weekend 5 orders a day
    day, i = dt.date(2017, 1, 1), 0
    while day.year == 2017:
        for _ in range({0: 8, 5: 5, 6: 5}.get(day.weekday(), 7)):
            add(f"filler{i}", dt.datetime.combine(day, dt.time(0)), 20 + (i * 37) % 180,
                city="sao paulo" if i % 4 == 0 else "campinas")
            i += 1
        day += dt.timedelta(days=1)
    # horizon groups, first purchases in January-February 2017
    for k in range(100):
        first = dt.datetime(2017, 1, 1) + dt.timedelta(days=k % 59)
        add(f"cheap{k}", first, 10.0)
        if k < 20:
            add(f"cheap{k}", first + dt.timedelta(days=30), 10.0)        # repeat within the horizon
        elif k < 40:
            add(f"cheap{k}", first + dt.timedelta(days=250), 10.0)       # repeat after the horizon
        elif k < 50:
            add(f"cheap{k}", first + dt.timedelta(hours=1), 10.0)        # same day: not a repeat
        add(f"expensive{k}", first, 100.0)
        if k < 20:
            add(f"expensive{k}", first + dt.timedelta(days=30), 100.0)
    # 27 customers who did not review their first purchase and did not come back
    for k in range(27):
        add(f"silent{k}", dt.datetime(2017, 3, 1) + dt.timedelta(days=k), 50.0, reviewed=False)
    # 2018-Q1: 100 first purchases a month, horizon incomplete, all scored 5
    for k in range(300):
        month = 1 + k // 100
        add(f"late{k}", dt.datetime(2018, month, 1) + dt.timedelta(days=k % 28), 150.0, score=5)
    add("last", dt.datetime(2018, 3, 31), 150.0, score=5)

    # hours cycle over 08..21, scores over 1, 3, 5 (2017), deliveries over 3..17 days, by position in time order
    orders.sort(key=lambda o: (o["at"], o["customer"]))
    for n, o in enumerate(orders):
        o["at"] = o["at"].replace(hour=8 + n % 14, minute=n % 60)
        if o["score"] is None:
            o["score"] = (1, 3, 5)[n % 3]
        o["delivery_days"] = 3 + (n * 7) % 15
        o["payment_type"] = "boleto" if n % 5 == 0 else "credit_card"
        o["order_id"] = f"o{n:05d}"

    # products: order counts correlated with photos; each order gets one item, some a second one
    photos, counts = _product_orders(len(orders) + 1, 2 * len(orders) - 1)
    slots = np.repeat(np.arange(N_PRODUCTS), counts)
    np.random.default_rng(15).shuffle(slots)
    first_items = slots[: len(orders)]
    extra = list(slots[len(orders):])
    items = {o["order_id"]: [int(first_items[n])] for n, o in enumerate(orders)}
    n = 0
    while extra:
        product = extra.pop()
        while product in items[orders[n]["order_id"]]:
            n += 1
        items[orders[n]["order_id"]].append(int(product))
        n += 1

    rows = {name: [] for name in HEADERS}
    for k in range(N_PRODUCTS):
        rows["products"].append(
            [f"p{k:03d}", "telefonia", 40, 200 + (k * 131) % 1800, int(photos[k]), 500, 20, 10, 15])
    for o in orders:
        at, oid, cid = o["at"], o["order_id"], "c" + o["order_id"]
        delivered = at + dt.timedelta(days=o["delivery_days"])
        rows["orders"].append(
            [oid, cid, "delivered", at.strftime(FMT), (at + dt.timedelta(hours=1)).strftime(FMT),
             (at + dt.timedelta(days=1)).strftime(FMT), delivered.strftime(FMT),
             (at + dt.timedelta(days=20)).strftime("%Y-%m-%d 00:00:00")])
        rows["customers"].append([cid, o["customer"], "01001", o["city"], "SP"])
        total = 0.0
        for seq, product in enumerate(items[oid], start=1):
            price = o["price"] + seq - 1
            rows["order_items"].append(
                [oid, seq, f"p{product:03d}", sellers[(int(oid[1:]) + seq) % len(sellers)],
                 (at + dt.timedelta(days=3)).strftime(FMT), f"{price:.2f}", "10.00"])
            total += price + 10
        rows["order_payments"].append([oid, 1, o["payment_type"], 1, f"{total:.2f}"])
        if o["reviewed"]:
            created = (delivered + dt.timedelta(days=1)).date()
            rows["order_reviews"].append(
                ["r" + oid, oid, o["score"], "", "", f"{created} 00:00:00",
                 f"{created + dt.timedelta(days=1)} 10:00:00"])
    for table, header in HEADERS.items():
        with open(raw_dir / FILES[table], "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows[table])
    return {"orders": len(orders), "products": N_PRODUCTS}
