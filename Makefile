# mlprov developer tasks. `make demo` and `make test` set up everything they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench system clean help

help:
	@echo "make demo   build the sample workspace and open the explorer on it"
	@echo "make test   run the whole test suite (installs what it needs)"
	@echo "make lint   ruff and mypy"
	@echo "make bench  run the benchmarks (figures go to docs/benchmarks.md by hand)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

system:
	./scripts/ensure-system.sh

demo: $(STAMP) system
	$(BIN)/mlprov demo --dest sample_workspace

test: $(STAMP) system
	$(BIN)/python -m pytest -q -ra

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check explorer/lineage.py explorer/store.py explorer/graph.py
	$(BIN)/mypy explorer sbom signing

bench: $(STAMP) system
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) sample_workspace .mlprov
