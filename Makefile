# The two commands of the README, plus helpers. Each sets up .venv the first time
# (uv from PyPI into .tools/, then the locked dependencies) and reuses it after.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced

.PHONY: demo test lint airflow clean

# The demo company is the simulator's (include/cxw_demo): it runs the pipeline through cxw.
demo: $(SYNCED)
	$(VENV)/bin/python -m cxw_demo demo

test: $(SYNCED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n 2 --dist loadfile --no-loadscope-reorder

# `cxw airflow`, on the demo company after `make demo` (no sources configured).
# Ctrl-C or SIGTERM stops every process it started.
AIRFLOW_PORT ?= 8080
airflow: $(SYNCED)
	$(VENV)/bin/python -m cxw_demo airflow --port $(AIRFLOW_PORT)

# SQLFluff renders every model with the dbt templater, which needs the DuckDB profile's
# CXW_HOME: a scratch one, so linting never opens a real warehouse.
LINT_HOME := $(CURDIR)/.cxw-lint
lint: $(SYNCED)
	$(VENV)/bin/ruff check .
	mkdir -p $(LINT_HOME)/warehouse
	CXW_HOME=$(LINT_HOME) $(VENV)/bin/sqlfluff lint dbt_project --processes 2

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

clean:
	rm -rf .airflow .cxw .cxw-lint dbt_project/target dbt_project/logs
