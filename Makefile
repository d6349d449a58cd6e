# bookgen: `make pdf` and `make test` are the whole set-up on a fresh Debian machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bookgen-installed
BOOKGEN := $(BIN)/bookgen
MANUSCRIPT ?= manuscript
TOOLS  := .tools
AXE    := $(TOOLS)/node_modules/axe-core/axe.min.js

.PHONY: all pdf epub html serve test lint check bench clean deps system-deps

all: deps
	$(BOOKGEN) build --format all --manuscript $(MANUSCRIPT)

pdf: deps
	$(BOOKGEN) build --format pdf --manuscript $(MANUSCRIPT)

epub: deps
	$(BOOKGEN) build --format epub --manuscript $(MANUSCRIPT)

html: deps
	$(BOOKGEN) build --format html --manuscript $(MANUSCRIPT)

serve: deps
	$(BOOKGEN) serve --manuscript $(MANUSCRIPT)

test: deps lint
	$(BIN)/python -m pytest

lint: deps
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

check: deps
	$(BOOKGEN) check --manuscript $(MANUSCRIPT)

bench: deps
	$(BIN)/python bench/bench.py

deps: system-deps $(STAMP) $(AXE)

system-deps:
	@scripts/system-deps.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# axe-core (the accessibility engine the browser tests inject), from npm into .tools/; no install scripts run.
$(AXE):
	npm install --prefix $(TOOLS) --ignore-scripts --no-audit --no-fund --no-save axe-core@4.14.1

clean:
	rm -rf build
