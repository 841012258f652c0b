# Hookline: the two commands are `make run` and `make test` (see README.md).
# Every target is idempotent: on a machine that is already set up they start work within seconds.
SHELL := /bin/bash
.DEFAULT_GOAL := run

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.stamp-run
STAMP_DEV := $(VENV)/.stamp-dev

PO_FILES := $(wildcard translations/*/LC_MESSAGES/hookline.po)
MO_FILES := $(PO_FILES:.po=.mo)

export NUMBA_CACHE_DIR ?= $(CURDIR)/.cache/numba
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup setup-test system-run system-test catalogs extract lint typecheck pytest clean

## run: set everything up and start the app (ARGS="..." passes options, e.g. --language de)
run: setup catalogs
	$(BIN)/hookline $(ARGS)

## test: set everything up and run the whole suite (lint, types, tests)
test: setup-test catalogs lint typecheck pytest

setup: system-run $(STAMP_RUN)
setup-test: system-test $(STAMP_DEV)

system-run:
	@bash packaging/system-deps.sh run
system-test:
	@bash packaging/system-deps.sh test

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Hookline needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	@touch $@

$(STAMP_DEV): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[dev]"
	@touch $@ $(STAMP_RUN)

## catalogs: compile the Babel catalogs (.po -> .mo)
catalogs: $(MO_FILES)
translations/%/LC_MESSAGES/hookline.mo: translations/%/LC_MESSAGES/hookline.po | $(VENV)/bin/python
	$(BIN)/pybabel compile --statistics -D hookline -i $< -o $@

## extract: refresh translations/hookline.pot and merge it into every catalog
extract: $(STAMP_DEV)
	$(BIN)/pybabel extract -F translations/babel.cfg -k N_ -k ngettext:1,2 -o translations/hookline.pot \
	  --project=Hookline --no-location --sort-output app audio models ui plugins
	$(BIN)/pybabel update -D hookline -i translations/hookline.pot -d translations --no-fuzzy-matching

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

pytest: $(STAMP_DEV) catalogs
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .cache build dist *.egg-info tests/artifacts $(MO_FILES)
