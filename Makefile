# Two commands on a fresh clone:
#   make demo   set up .venv, dbt build on the bundled sample, render the HTML reports
#   make test   set up .venv, run every test (pytest drives dbt builds on the sample and the real subset)
SHELL := /bin/bash
PYTHON ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: demo test lint test-deps test-engines build build-core reports docs bench bench-10m bench-incremental clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# The linters (requirements-dev.txt), installed together with requirements.txt so that pip checks both sets of pins.
DEV_STAMP := $(VENV)/.requirements-dev-installed
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $(DEV_STAMP)

ENGINES_STAMP := $(VENV)/.requirements-engines-installed
$(ENGINES_STAMP): $(STAMP) requirements-engines.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-engines.txt
	touch $(ENGINES_STAMP)

# Atomic build: scripts/safe_build.py runs `dbt build $(DBT_ARGS)` on a copy of the warehouse and swaps it in
# only when everything passed (a failing build leaves the previous marts intact). Your own export:
#   make build DBT_ARGS="--vars '{raw_data_dir: /path/to/csvs}'"
build: $(STAMP)
	$(BIN)/python scripts/safe_build.py $(DBT_ARGS)

# The core marts alone (selectors.yml core_marts: order grain, RFM, ABC-XYZ, cohort retention, the quality marts,
# everything upstream and their data tests), atomically like build. The other marts of an existing warehouse keep
# their last build; the reports that read them show that build.
build-core: $(STAMP)
	$(BIN)/python scripts/safe_build.py --selector core_marts $(DBT_ARGS)

# Renders every report whose marts exist (reads $$DUCKDB_PATH, default warehouse.duckdb) into reports/.
reports: $(STAMP)
	$(BIN)/python scripts/render_reports.py
	@echo "Open the reports: file://$(CURDIR)/reports/index.html"

demo: build reports

# make test = the pytest suite, `make lint` and `make test-engines` (the same marts on PostgreSQL and Spark, compared
# with DuckDB). Lint and the engines run in the background while pytest runs (the Spark build waits on its JVM more
# than it computes; lint's sqlfluff dbt templater is 2-4 min that no longer delays pytest): README "Tests". Their
# logs are printed after pytest (also in target/lint/lint.log and target/engines/test-engines.log); any of the
# three failing fails make test. The linters (requirements-dev.txt) and the engines' packages
# (requirements-engines.txt) are installed first: tests/python also drives a local Spark session.
# (SUBMAKE, not $(MAKE) itself in the recipe: `make -n test` would run a recipe line naming $(MAKE), pytest included.)
SUBMAKE = $(MAKE) --no-print-directory
# pytest on two workers (pytest-xdist; the machine and CI have 2 cores): each test module runs whole on one worker,
# the longest first (tests/python/conftest.py, XDIST_MODULE_ORDER); the sample and real-subset builds are built once
# and shared. PYTEST_XDIST= runs pytest in one process.
PYTEST_XDIST ?= -n 2 --dist loadfile --no-loadscope-reorder
test: $(DEV_STAMP) $(ENGINES_STAMP) test-deps
	@mkdir -p target/lint target/engines
	@$(SUBMAKE) lint LINT_PROCESSES=1 > target/lint/lint.log 2>&1 & lint=$$!; \
	$(SUBMAKE) test-engines > target/engines/test-engines.log 2>&1 & engines=$$!; \
	$(BIN)/python -m pytest tests/python -rs --durations=25 $(PYTEST_XDIST); tests=$$?; \
	wait $$lint; lint_rc=$$?; \
	wait $$engines; engines_rc=$$?; \
	echo "=== make lint, run beside pytest (target/lint/lint.log) ==="; \
	cat target/lint/lint.log; \
	echo "=== make test-engines ENGINES=$(ENGINES), run beside pytest (target/engines/test-engines.log) ==="; \
	cat target/engines/test-engines.log; \
	echo "make test: pytest exit $$tests, lint exit $$lint_rc, test-engines exit $$engines_rc"; \
	test $$tests -eq 0 && test $$lint_rc -eq 0 && test $$engines_rc -eq 0

# Lint (run beside pytest by make test; alone: make lint): sqlfluff on the SQL of models/, tests/ and analyses/ as dbt
# compiles it (.sqlfluff: dbt templater, house style; macros are linted where the models call them) and ruff on the
# Python (ruff.toml). The dbt templater compiles against its own target path and an empty DuckDB file, never the
# warehouse nor the folders of pytest's builds. sqlfluff runs 2 processes (.sqlfluff); make test asks for one
# (LINT_PROCESSES=1): each process compiles the project itself, and beside pytest the second core is taken
# (168 s of CPU with one process, 235 s with two, 2026-12-02).
lint: $(DEV_STAMP)
	@mkdir -p target/sqlfluff
	DBT_TARGET_PATH=target/sqlfluff DUCKDB_PATH=target/sqlfluff/lint.duckdb \
		$(BIN)/sqlfluff lint --disable-progress-bar $(if $(LINT_PROCESSES),--processes $(LINT_PROCESSES)) \
		models tests analyses
	$(BIN)/ruff check .

# The other engines (README "Other engines"): builds the sample on DuckDB, PostgreSQL (scripts/start_postgres.sh)
# and Spark (local pyspark, Java 17), the dbt Python models run there by scripts/run_python_models.py, and compares
# every mart with the DuckDB build (scripts/compare_engines.py). Called by `make test`. One engine:
# make test-engines ENGINES=postgres
ENGINES ?= postgres,spark
test-engines: $(ENGINES_STAMP)
	$(BIN)/python scripts/test_engines.py --engines $(ENGINES)

# The browser test of the reports needs headless Chromium (Debian packages chromium, chromium-driver).
# Installed here when missing and running as root (CI); otherwise that test skips (fails when CI=true).
test-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "test-deps: installing chromium and chromium-driver for the browser test of the reports"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver >/dev/null; \
	else echo "test-deps: /usr/bin/chromium or /usr/bin/chromedriver missing and not root:" \
		"install chromium and chromium-driver, or the browser test of the reports skips"; fi

# dbt docs site (lineage incl. the exposures of models/_exposures.yml). Build first for a full catalog.
docs: $(STAMP)
	$(BIN)/dbt docs generate --static
	@echo "dbt docs: open file://$(CURDIR)/target/static_index.html (or run: $(BIN)/dbt docs serve)"

# Benchmark: whole dbt build vs a hand-written DuckDB script vs pandas on generated data at 10 k, 100 k
# and 1 M orders (bench-10m: the 10 M run, ~7 GB of CSV under benchmarks/data/). Results are merged
# into benchmarks/results.json; extra flags via BENCH_ARGS, e.g. make bench BENCH_ARGS="--threads 2".
bench: $(STAMP)
	$(BIN)/python scripts/benchmark.py --scales 10k,100k,1m $(BENCH_ARGS)

bench-10m: $(STAMP)
	$(BIN)/python scripts/benchmark.py --scales 10m $(BENCH_ARGS)

# Issue 19's incremental run at 1 M orders (BENCH_SCALE=10m for 10 M): a warehouse built without the last purchase
# day, then `dbt build` again after the day is appended, compared table by table with a full build of the same data
# (three builds; README "Performance and scaling").
BENCH_SCALE ?= 1m
bench-incremental: $(STAMP)
	$(BIN)/python scripts/benchmark.py --scales $(BENCH_SCALE) --incremental-only $(BENCH_ARGS)

clean:
	rm -rf target logs reports warehouse.duckdb warehouse.duckdb.wal warehouse.duckdb.building warehouse.duckdb.failed warehouse.duckdb.build.lock
