# bookgen: `make pdf` and `make test` are the whole set-up on a fresh Debian machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bookgen-installed
BOOKGEN := $(BIN)/bookgen
MANUSCRIPT ?= manuscript

.PHONY: all pdf epub test lint check bench clean deps system-deps

all: deps
	$(BOOKGEN) build --format all --manuscript $(MANUSCRIPT)

pdf: deps
	$(BOOKGEN) build --format pdf --manuscript $(MANUSCRIPT)

epub: deps
	$(BOOKGEN) build --format epub --manuscript $(MANUSCRIPT)

test: deps lint
	$(BIN)/python -m pytest

lint: deps
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

check: deps
	$(BOOKGEN) check --manuscript $(MANUSCRIPT)

bench: deps
	$(BIN)/python bench/bench.py

deps: system-deps $(STAMP)

system-deps:
	@scripts/system-deps.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

clean:
	rm -rf build
