# bookgen: `make pdf` and `make test` are the whole set-up on a fresh Debian machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bookgen-installed
BOOKGEN := $(BIN)/bookgen
MANUSCRIPT ?= manuscript
TOOLS  := .tools
AXE_VERSION := 4.14.1

ACE     := $(TOOLS)/node_modules/.bin/ace-puppeteer
ACE_VERSION := 1.4.6
NODE_STAMP := $(TOOLS)/.installed-axe-$(AXE_VERSION)-ace-$(ACE_VERSION)

.PHONY: all pdf epub html serve test lint check bench clean deps system-deps ace

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
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

check: deps
	$(BOOKGEN) check --manuscript $(MANUSCRIPT)

bench: deps
	$(BIN)/python bench/bench.py

deps: system-deps $(STAMP) $(NODE_STAMP)

# From npm into .tools/, in one install (two would prune each other): axe-core, the engine the web
# edition's browser tests inject, and Ace by DAISY, the EPUB accessibility checker. --ignore-scripts
# and PUPPETEER_SKIP_DOWNLOAD: no browser or Electron is downloaded; both run on Debian's chromium.
$(NODE_STAMP):
	PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix $(TOOLS) --ignore-scripts --no-audit --no-fund axe-core@$(AXE_VERSION) @daisy/ace@$(ACE_VERSION)
	@touch $@

# make ace EPUB=build/book.epub: Ace's report in build/ace/ (report.html, report.json)
ace: deps
	PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_EXECUTABLE_PATH=/usr/bin/chromium $(ACE) --force --outdir build/ace $(EPUB)

system-deps:
	@scripts/system-deps.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@


clean:
	rm -rf build
