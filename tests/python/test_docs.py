"""Documentation: every column of every model is described, and the shared descriptions are doc blocks.

A column that recurs across models with one meaning is described once, in a {% docs %} block (models/**/*.md), and
the YAML files use description: "{{ doc('<block>') }}", plus a sentence for what holds in that model only.
"""
from __future__ import annotations

import json
import re

import yaml

from conftest import ROOT, query

DOC_REF = re.compile(r"""\{\{\s*doc\(\s*['"](\w+)['"]\s*\)\s*\}\}""")
DOC_BLOCK = re.compile(r"\{%-?\s*docs\s+(\w+)\s*-?%\}")


def _yaml_texts() -> dict[str, str]:
    return {p.relative_to(ROOT).as_posix(): p.read_text() for p in sorted((ROOT / "models").rglob("*.yml"))}


def test_doc_blocks_are_defined_once_and_each_is_used():
    defined: dict[str, list[str]] = {}
    for path in sorted((ROOT / "models").rglob("*.md")):
        for name in DOC_BLOCK.findall(path.read_text()):
            defined.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    assert defined, "no {% docs %} blocks under models/"
    assert not {n: p for n, p in defined.items() if len(p) > 1}, "a doc block is defined in more than one place"
    used = {name for text in _yaml_texts().values() for name in DOC_REF.findall(text)}
    assert not used - set(defined), "doc() names a block that does not exist"
    assert not set(defined) - used, "a doc block no YAML file uses (dead)"


def test_every_yaml_column_has_a_description():
    missing = []
    for path, text in _yaml_texts().items():
        spec = yaml.safe_load(text) or {}
        tables = [(m["name"], m) for m in spec.get("models") or []]
        tables += [(f"{s['name']}.{t['name']}", t) for s in spec.get("sources") or [] for t in s.get("tables") or []]
        missing += [(path, name, c["name"]) for name, table in tables for c in table.get("columns") or []
                    if not str(c.get("description") or "").strip()]
    assert not missing


def test_every_built_column_has_a_rendered_description(sample_build):
    """Every column of every relation the sample build made is documented, and doc() rendered (no Jinja left)."""
    manifest = json.loads((sample_build.db_path.parent / "target" / "manifest.json").read_text())
    nodes = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    unrendered, undocumented = [], []
    for node in nodes + list(manifest["sources"].values()):
        for column in node["columns"].values():
            description = column.get("description") or ""
            if "{{" in description or "{%" in description or not description.strip():
                unrendered.append((node["name"], column["name"]))
    assert not unrendered
    built = query(sample_build.db_path, "select table_name, column_name from information_schema.columns")
    columns: dict[str, set[str]] = {}
    for table, column in built:
        columns.setdefault(table, set()).add(column.lower())
    for node in nodes:
        if node["config"].get("materialized") == "ephemeral":
            continue
        relation = node.get("alias") or node["name"]
        assert relation in columns, f"model {node['name']} not built by the sample build"
        documented = {name.lower() for name in node["columns"]}
        undocumented += [(relation, c) for c in sorted(columns[relation] - documented)]
    assert not undocumented
