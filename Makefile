# bookgen: `make pdf` and `make test` are the whole set-up on a fresh Debian machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bookgen-installed
BOOKGEN := $(BIN)/bookgen
MANUSCRIPT ?= manuscript

ACE     := .tools/node_modules/.bin/ace-puppeteer
ACE_VERSION := 1.4.6

.PHONY: all pdf epub test check bench clean deps system-deps ace

all: deps
	$(BOOKGEN) build --format all --manuscript $(MANUSCRIPT)

pdf: deps
	$(BOOKGEN) build --format pdf --manuscript $(MANUSCRIPT)

epub: deps
	$(BOOKGEN) build --format epub --manuscript $(MANUSCRIPT)

test: deps
	$(BIN)/python -m pytest

check: deps
	$(BOOKGEN) check --manuscript $(MANUSCRIPT)

bench: deps
	$(BIN)/python bench/bench.py

deps: system-deps $(STAMP) $(ACE)

# Ace by DAISY (the EPUB accessibility checker) in a project-local folder; --ignore-scripts and
# PUPPETEER_SKIP_DOWNLOAD: no browser or Electron is downloaded, Ace runs on Debian's chromium.
$(ACE):
	PUPPETEER_SKIP_DOWNLOAD=1 npm install --ignore-scripts --no-audit --no-fund --prefix .tools @daisy/ace@$(ACE_VERSION)

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
