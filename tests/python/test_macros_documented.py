"""macros/_macros.yml documents every macro of macros/ and every generic test of tests/generic (dbt names the
macro of a generic test test_<name>), with each of its arguments in order, and nothing that no longer exists.
Reads the files only: no dbt run."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = re.compile(r"\{%-?\s*(macro|test)\s+(\w+)\s*\((.*?)\)\s*-?%\}", re.S)


def defined_macros() -> dict[str, list[str]]:
    """{macro name: argument names} of every macro and generic test in the project."""
    found = {}
    for path in sorted([*ROOT.glob("macros/**/*.sql"), *ROOT.glob("tests/generic/**/*.sql")]):
        for kind, name, args in DEFINITION.findall(path.read_text()):
            arg_names = [a.split("=")[0].strip() for a in re.split(r",(?![^\[\{]*[\]\}])", args) if a.strip()]
            found[name if kind == "macro" else f"test_{name}"] = arg_names
    return found


def documented_macros() -> dict[str, dict]:
    documented = {}
    for path in sorted(ROOT.glob("macros/**/*.yml")):
        for entry in yaml.safe_load(path.read_text()).get("macros", []):
            documented[entry["name"]] = entry
    return documented


def test_every_macro_is_documented_with_its_arguments():
    defined, documented = defined_macros(), documented_macros()
    assert len(defined) > 100  # the parser still finds the macros
    assert sorted(set(defined) - set(documented)) == [], "macros missing from macros/_macros.yml"
    assert sorted(set(documented) - set(defined)) == [], "documented macros that no longer exist"
    for name, args in defined.items():
        entry = documented[name]
        assert entry.get("description", "").strip(), f"{name}: no description"
        documented_args = [a["name"] for a in entry.get("arguments", [])]
        assert documented_args == args, f"{name}: arguments {documented_args} documented, {args} defined"
        assert all(a.get("description", "").strip() for a in entry.get("arguments", [])), f"{name}: undescribed arg"
