"""The tests' dbt fork server (tests/python/dbt_forkserver.py) forks every dbt run of the tests from a process that
has parsed this project with its default vars, dbt's Jinja caches on and Jinja's compiled code kept. A run through it
must parse the project exactly as a new `dbt` process does, with other vars than the server's: the caches may save
reading a source again, never change what dbt makes of it."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DBT, FORK_SERVER, ROOT, run_dbt
from test_reliability import artifacts, env_for

# vars that change what the parse builds: the transactions layout enables its staging model and source (disabled in
# the Olist layout the server parsed), and rfm_bins is rendered into configs and tests
PARSE_VARS = {
    "input_format": "transactions",
    "transactions_path": "/nonexistent/orders.csv",  # a parse reads no data
    "transactions_columns": {"customer_id": "buyer", "ordered_at": "created", "amount": "total"},
    "rfm_bins": 4,
}


def _without_run_stamps(value):
    """The manifest minus what differs between any two parses: its metadata (invocation id, times, the anonymous
    usage settings) and each node's created_at."""
    if isinstance(value, dict):
        return {k: _without_run_stamps(v) for k, v in value.items() if k not in ("created_at", "metadata")}
    if isinstance(value, list):
        return [_without_run_stamps(v) for v in value]
    return value


def test_a_parse_through_the_fork_server_equals_a_parse_in_a_new_process(tmp_path):
    if not FORK_SERVER.available():
        pytest.fail("the dbt fork server did not start (see the warning above)")
    forked = run_dbt(["parse", "--no-partial-parse"], tmp_path / "forked" / "warehouse.duckdb", tmp_path / "forked",
                     PARSE_VARS)
    assert forked.returncode == 0, forked.output[-3000:]
    new = subprocess.run(
        [DBT, "parse", "--no-partial-parse", *artifacts(tmp_path / "new"), "--vars", json.dumps(PARSE_VARS)],
        cwd=ROOT, env=env_for(tmp_path / "new" / "warehouse.duckdb"), capture_output=True, text=True, timeout=600,
    )
    assert new.returncode == 0, (new.stdout + new.stderr)[-3000:]
    manifests = [json.loads((tmp_path / run / "target" / "manifest.json").read_text()) for run in ("forked", "new")]
    # the vars took effect in both: the transactions staging is a node, not a disabled one as with the defaults
    for manifest in manifests:
        assert "model.customer_segmentation.stg_transactions__lines" in manifest["nodes"]
        assert "model.customer_segmentation.stg_transactions__lines" not in manifest["disabled"]
    forked_manifest, new_manifest = (_without_run_stamps(m) for m in manifests)
    assert forked_manifest.keys() == new_manifest.keys()
    for section in forked_manifest:
        assert forked_manifest[section] == new_manifest[section], section


# Renders the same sources in environments whose generated code differs, before and after the server's compile
# cache is installed, and prints both results; run in a new process (the cache replaces jinja2's method for good).
COMPILE_CACHE_SCRIPT = """
import json, sys
import jinja2
from dbt.clients.jinja import get_rendered
sys.path.insert(0, sys.argv[1])
import dbt_forkserver

SOURCE = "{% if 1 %}\\n{{ '<a>' | shout }}{% endif %}"

def shout(value):
    return str(value).upper()

def results():
    out = []
    for native in (False, True):  # dbt's text and native environments: '2' against 2
        out.append(repr(get_rendered("{{ (1 + 1) | as_number }}", {}, native=native)))
        out.append(repr(get_rendered("{{ [1, 2] | as_native }}", {}, native=native)))
    environments = [jinja2.Environment(), jinja2.Environment(), jinja2.Environment(autoescape=True),
                    jinja2.Environment(trim_blocks=True)]
    for env in environments:
        env.filters["shout"] = shout
    environments[1].filters["shout"] = jinja2.pass_context(lambda context, value: context["prefix"] + str(value))
    out += [repr(env.from_string(SOURCE).render(prefix="!")) for env in environments]
    return out

before = results()
dbt_forkserver._memoize_jinja_compile()
print(json.dumps([before, results(), results()]))
"""


def test_the_compile_cache_keeps_environments_apart():
    """The same source compiled in environments whose generated code differs (dbt's text and native environments,
    a filter with and without pass_context, autoescape, trim_blocks) renders as it does without the cache, also when
    the cache already holds it."""
    run = subprocess.run([sys.executable, "-c", COMPILE_CACHE_SCRIPT, str(Path(__file__).parent)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    before, first, again = json.loads(run.stdout.splitlines()[-1])
    assert len(set(before)) == len(before)  # the environments do render the sources differently
    assert first == before and again == before


def test_the_warm_up_extractor_reads_refs_and_sources_as_dbt_extractor_does():
    """During the server's warm-up, dbt's unit-test parser reads its `given` inputs with a Python stand-in for the
    Rust extractor (which starts threads); on every form of input it returns what the extractor returns, the
    project's own unit-test inputs included, and it refuses what is not one ref or source call. (Imported here:
    dbt_forkserver imports dbt, which the pytest process otherwise never needs.)"""
    import dbt_extractor

    from dbt_forkserver import _extract_without_threads

    inputs = {"ref('a')", 'ref("a")', "ref('pkg', 'a')", "ref('a', v=2)", "ref('a', version='3')",
              "source('s', 't')"}
    for path in (ROOT / "models").rglob("*.yml"):
        inputs |= set(re.findall(r"input:\s*((?:ref|source)\([^)]*\))", path.read_text()))
    assert len(inputs) > 10  # the project's unit tests give inputs too
    for given in sorted(inputs):
        source = "{{ " + given + " }}"
        assert _extract_without_threads(source) == dbt_extractor.py_extract_from_source(source), given
    for not_one_call in ("{{ ref('a') ~ 'b' }}", "{{ this }}", "{{ config(x=1) }}"):
        with pytest.raises(dbt_extractor.ExtractionError):
            _extract_without_threads(not_one_call)
