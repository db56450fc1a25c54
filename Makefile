# The two commands of the README: `make build` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: build test lint clean bench bench-pelican proof proof-record lock lighthouse

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# The tests (and CI) run on the exact versions in requirements.lock, each checked by its hash.
$(VENV)/.installed-test: pyproject.toml requirements.lock $(VENV)/.installed
	$(BIN)/python -m pip install -q --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

build: $(VENV)/.installed
	$(BIN)/qsite build

test: $(VENV)/.installed-test
	$(BIN)/ruff check qsite tests
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check qsite tests

clean:
	rm -rf output .qsite-cache

# Pins every dependency of qsite and its tests, with hashes (pip-tools): run it after changing
# pyproject.toml's dependencies, or to take newer versions, and commit requirements.lock.
lock: | $(BIN)/python
	$(BIN)/python -m pip install -q pip-tools
	$(BIN)/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --extra test -o requirements.lock pyproject.toml

# Times cold and incremental builds of generated 1,000- and 5,000-post sites (a few minutes).
bench: $(VENV)/.installed
	$(BIN)/python -m bench

# Cold builds of the 1,000-post site against Pelican 4.12 on the same posts (issue 10's targets),
# with and without the search index; Pelican is installed once into .venv-pelican (bench/pelican.py).
bench-pelican: $(VENV)/.installed
	$(BIN)/python -m bench --sizes 1000 --runs 3 --serve-size 0 --pelican --pelican-venv .venv-pelican

# Proves the output unchanged: clean builds of the example site and the 1,000-post benchmark site
# compared file by file with the builds recorded in bench/proof/ (bench/proof.py).
proof: $(VENV)/.installed
	$(BIN)/python -m bench.proof verify

# Records them again, after an intended change of the output (commit the records with it).
proof-record: $(VENV)/.installed
	$(BIN)/python -m bench.proof record

# Lighthouse's four scores for every page kind of the example site, at mobile settings (issue 14).
# Lighthouse comes from npm into .tools/lighthouse (12.2.3: the last release for Node 20) and runs
# Debian's chromium (CHROME_PATH), never a browser of its own (bench/lighthouse.py).
LIGHTHOUSE_VERSION := 12.2.3
LIGHTHOUSE := .tools/lighthouse/node_modules/.bin/lighthouse
CHROME_PATH ?= /usr/bin/chromium

$(LIGHTHOUSE):
	mkdir -p .tools/lighthouse
	npm install --prefix .tools/lighthouse --no-audit --no-fund -E lighthouse@$(LIGHTHOUSE_VERSION)

lighthouse: $(VENV)/.installed $(LIGHTHOUSE)
	CHROME_PATH=$(CHROME_PATH) $(BIN)/python -m bench.lighthouse --lighthouse $(LIGHTHOUSE)
