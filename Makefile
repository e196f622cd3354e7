# Every target has a "## description"; `make help` lists them (Cookiecutter Data Science style).
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= data
ARGS ?=

.PHONY: help install refresh data parse status cron-example report export test lint format check bench clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

install: $(BIN)/python ## create .venv and install the project with its dev extras
	$(BIN)/python -m pip install -e '.[dev]'

refresh: ## parse data/raw/*.md, fetch from arXiv, write data/enriched/*.parquet (ARGS=... for more options)
	$(BIN)/python -m pipeline refresh --data-dir $(DATA_DIR) $(ARGS)

data: refresh ## alias of refresh

parse: ## parse the lists into data/enriched/entries.parquet only (no network)
	$(BIN)/python -m pipeline parse --data-dir $(DATA_DIR) $(ARGS)

report: ## write an HTML report of the tables to data/enriched/report/index.html
	$(BIN)/python -m pipeline report --data-dir $(DATA_DIR) $(ARGS)

export: ## export the tables (FORMAT=bibtex|csv|jsonl, default bibtex)
	$(BIN)/python -m pipeline export --data-dir $(DATA_DIR) --format $(or $(FORMAT),bibtex) $(ARGS)

status: ## show the last runs, table sizes, stale papers and the latest changes
	$(BIN)/python -m pipeline status --data-dir $(DATA_DIR)

cron-example: ## print a crontab line for a nightly refresh (logs in data/logs/)
	@echo "17 3 * * * $(CURDIR)/scripts/cron_refresh.sh"

test: ## run the test suite (what CI runs)
	$(BIN)/python -m pytest

lint: ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: ## format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: lint test ## lint, then test

bench: ## benchmark: requests vs arXiv's floor, time and memory, vs a plain arxiv.Client script (ARGS=--quick: smoke run)
	$(BIN)/python bench/run.py $(ARGS)

clean: ## remove caches and build output (never data/raw or the tables)
	rm -rf .pytest_cache .ruff_cache .mypy_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
