# After-sales case engine: the commands people run. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL := postgresql://aftersales:aftersales-test@127.0.0.1:5432/aftersales_test
PYTEST_ARGS ?=
TEST_JOBS ?= 2  # pytest-xdist workers; each test file runs whole on one of them

.PHONY: help demo test unit lint typecheck fmt bench postgres browser bytecode clean

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,report,demo]'
	touch $(STAMP)

venv: $(STAMP)  ## create the virtualenv and install the project

# The project's own packages (pyproject.toml); pip compiles what it installs, not an editable
# install's sources.
PACKAGES := aftersales aftersales_core schemas dispatch consumers projections audit scheduling \
	workers database privacy demo bench api server desk

bytecode: $(STAMP)  ## compile the project's modules (only what changed), so no process compiles them
	@$(BIN)/python -m compileall -q -j 0 $(PACKAGES) >/dev/null

demo: bytecode  ## run the pipeline on the embedded defaults and print what happened
	$(BIN)/python -m demo $(DEMO_ARGS)

test: bytecode postgres browser lint typecheck  ## start what the tests need and run them all
	AFTERSALES_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/python -m pytest -q -n $(TEST_JOBS) --dist loadfile $(PYTEST_ARGS)

unit: bytecode  ## the fast, pure tests only
	$(BIN)/python -m pytest -q tests/unit

browser:  ## Debian's chromium (and a Chinese font) for the desk's browser tests, when missing
	@command -v chromium >/dev/null && dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		chromium fonts-wqy-microhei >/dev/null; }

postgres:  ## start the local PostgreSQL 15 and create the test role and database
	@scripts/postgres-up.sh

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check .

typecheck: $(STAMP)  ## mypy (strict defs)
	$(BIN)/mypy

fmt: $(STAMP)  ## format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: bytecode postgres  ## run the benchmarks with their baselines, print and save the figures
	AFTERSALES_BENCH_POSTGRES_URL=$(PG_URL) $(BIN)/python -m bench $(BENCH_ARGS)

clean:  ## remove local data (event store, read models) but not the virtualenv
	rm -rf var
