# The two commands of the README: `make build` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: build test lint clean bench proof proof-record

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
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

# Times cold and incremental builds of generated 1,000- and 5,000-post sites (a few minutes).
bench: $(VENV)/.installed
	$(BIN)/python -m bench

# Proves the output unchanged: clean builds of the example site and the 1,000-post benchmark site
# compared file by file with the builds recorded in bench/proof/ (bench/proof.py).
proof: $(VENV)/.installed
	$(BIN)/python -m bench.proof verify

# Records them again, after an intended change of the output (commit the records with it).
proof-record: $(VENV)/.installed
	$(BIN)/python -m bench.proof record
