# Every target has a "## description"; `make help` lists them (Cookiecutter Data Science style).
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= data
ARGS ?=
# What `make refresh` keeps up to date besides the tables: the report in data/site/ and the
# exports in data/export/ (rebuilt only when the tables changed). OUTPUTS= turns them off.
OUTPUTS ?= --report --export bibtex,csv,jsonl,csljson,ris

# The environment installs itself on first use, and again whenever pyproject.toml is newer
# than the stamp of the last install: the job's targets need the runtime dependencies only,
# the developer's targets the dev extras too (a dev install is also a runtime install).
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
NOTEBOOK := $(VENV)/.installed-notebook
PIP := $(BIN)/python -m pip install --disable-pip-version-check

.PHONY: help install refresh data parse status cron-example report export notebook test lint format check bench clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(BIN)/python:
	@scripts/make_venv.sh '$(PYTHON)' '$(VENV)' '$(or $(firstword $(MAKECMDGOALS)),install)'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev]'
	touch $@ $(RUNTIME)

$(NOTEBOOK): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[notebook]'
	touch $@ $(RUNTIME)

install: | $(BIN)/python ## create .venv and install everything at once: the runtime, dev and notebook extras
	$(PIP) -e '.[dev,notebook]'
	touch $(RUNTIME) $(DEV) $(NOTEBOOK)

refresh: $(RUNTIME) ## parse the lists in data/raw/, fetch from arXiv, write data/enriched/*.parquet, data/site/ and data/export/ (ARGS=..., OUTPUTS=...)
	$(BIN)/python -m pipeline refresh --data-dir $(DATA_DIR) $(OUTPUTS) $(ARGS)

data: refresh ## alias of refresh

parse: $(RUNTIME) ## parse the lists into data/enriched/entries.parquet only (no network)
	$(BIN)/python -m pipeline parse --data-dir $(DATA_DIR) $(ARGS)

report: $(RUNTIME) ## write the HTML report of the tables to data/site/index.html
	$(BIN)/python -m pipeline report --data-dir $(DATA_DIR) $(ARGS)

export: $(RUNTIME) ## export the tables to data/export/ (FORMAT=bibtex|csv|jsonl|csljson|ris, default bibtex)
	$(BIN)/python -m pipeline export --data-dir $(DATA_DIR) --format $(or $(FORMAT),bibtex) $(ARGS)

status: $(RUNTIME) ## show the last runs, table sizes, stale papers and the latest changes
	$(BIN)/python -m pipeline status --data-dir $(DATA_DIR)

cron-example: ## print a crontab line for a nightly refresh (logs in data/logs/)
	@echo "17 3 * * * $(CURDIR)/scripts/cron_refresh.sh"

notebook: $(NOTEBOOK) ## start JupyterLab on notebooks/ (explore.ipynb reads the tables)
	$(BIN)/jupyter lab notebooks/

test: $(DEV) ## run the test suite (what CI runs)
	$(BIN)/python -m pytest

lint: $(DEV) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV) ## format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: lint test ## lint, then test

bench: $(DEV) ## benchmark: requests vs arXiv's floor, time and memory, vs a plain arxiv.Client script (ARGS=--quick: smoke run)
	$(BIN)/python bench/run.py $(ARGS)

clean: ## remove caches and build output (never data/raw or the tables)
	rm -rf .pytest_cache .ruff_cache .mypy_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
