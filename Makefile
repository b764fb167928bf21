# Two entry points: `make demo` and `make test`. Each sets up what is missing
# (PostgreSQL 15 + TimescaleDB, the virtualenv, test tools) and is fast the
# second time.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
BIN := $(VENV)/bin
CLEARWELL_PGPORT ?= 54329
export CLEARWELL_PGPORT
# The runtime role (the web app, the collectors, the commands): it may read and append
# records, nothing more. The owner migrates (SECURITY.md).
export CLEARWELL_DATABASE_URL ?= postgresql://clearwell:clearwell@127.0.0.1:$(CLEARWELL_PGPORT)/clearwell
export CLEARWELL_OWNER_DATABASE_URL ?= postgresql://clearwell_owner:clearwell@127.0.0.1:$(CLEARWELL_PGPORT)/clearwell
export CLEARWELL_DATA_DIR ?= $(CURDIR)/var
PYTEST_ARGS ?=

.PHONY: help setup setup-db setup-python setup-assets setup-test-tools demo serve migrate test lint pytest bench

help:
	@echo "make demo   set up what is missing, then run Clearwell with its simulators"
	@echo "make test   set up what is missing, then run lint and the whole test suite"

setup-db:
	@bash scripts/setup-timescaledb.sh

setup-python:
	@bash scripts/setup-python.sh

# Tools from outside PyPI that the tests drive: third-party protocol clients,
# Debian's Chromium and the front-end build.
setup-test-tools:
	@for s in scripts/setup-test-tools.sh scripts/setup-browser.sh; do \
	  if [ -f $$s ]; then bash $$s || exit 1; fi; done

# The web pages' front-end libraries (npm, pinned by package-lock.json).
setup-assets:
	@bash scripts/build-assets.sh

setup: setup-db setup-python

migrate: setup
	$(BIN)/clearwell db migrate

demo: setup setup-assets
	$(BIN)/clearwell demo

# Migrating first also gives the runtime role its grants (an install from before two
# roles has none until then).
serve: migrate setup-assets
	$(BIN)/clearwell serve

lint: setup-python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The tests make their own databases (a throwaway cluster, or the server that
# CLEARWELL_TEST_DATABASE_URL names); setup-db installs what that needs.
pytest: setup setup-test-tools
	env -u CLEARWELL_DATABASE_URL -u CLEARWELL_OWNER_DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)

test: lint pytest

bench: setup
	$(BIN)/python -m bench $(BENCH)
