"""The nine raw Olist tables and their CSV file names (the Kaggle export's), for the Python side.

The one home of the file names is the dbt sources YAML (SOURCES_YML): each table's external_location reads
read_csv('<raw_data_dir>/<file name>', ...). This module reads the names from there, so the generator
(scripts/generate_olist.py), the loader (scripts/load_raw.py), the benchmark (scripts/benchmark.py,
scripts/bench_pandas.py) and the tests' references cannot drift from what the build reads.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SOURCES_YML = ROOT / "models" / "staging" / "olist" / "_olist__sources.yml"
SOURCE_NAME = "olist"
# the file of a read_csv('<folder>/<file>', ...) expression
_FILE_NAME = re.compile(r"read_csv\(\s*'[^']*/([^/']+)'")


def source_spec(path: Path = SOURCES_YML) -> dict:
    """The source `olist` of the sources YAML (its tables with their config.meta.external_location)."""
    spec = yaml.safe_load(path.read_text())
    (source,) = [s for s in spec["sources"] if s["name"] == SOURCE_NAME]
    return source


def file_names(path: Path = SOURCES_YML) -> dict[str, str]:
    """Source table name -> CSV file name, in the order of the sources YAML."""
    names = {}
    for table in source_spec(path)["tables"]:
        location = table["config"]["meta"]["external_location"]
        found = _FILE_NAME.search(location)
        if found is None:
            raise ValueError(f"{path}: no read_csv('<dir>/<file>') in the external_location of {table['name']}")
        names[table["name"]] = found.group(1)
    return names


# orders -> olist_orders_dataset.csv, ..., category_translation -> product_category_name_translation.csv
FILES: dict[str, str] = file_names()
