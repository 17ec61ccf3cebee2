# Two commands on a fresh clone:
#   make demo   set up .venv, dbt build on the bundled sample, render the HTML reports
#   make test   set up .venv, run every test (pytest drives dbt builds on the sample and the real subset)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: demo test build reports docs bench clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

build: $(STAMP)
	$(BIN)/dbt build

reports: $(STAMP)
	@if [ -f scripts/render_reports.py ]; then $(BIN)/python scripts/render_reports.py; \
	else echo "reports: scripts/render_reports.py not present yet, nothing to render"; fi

demo: build reports

test: $(STAMP)
	$(BIN)/python -m pytest tests/python

docs: $(STAMP)
	$(BIN)/dbt docs generate

clean:
	rm -rf target logs reports warehouse.duckdb
