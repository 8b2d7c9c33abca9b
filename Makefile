# `make demo` and `make test` create .venv with everything they need if it is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]" "torch==2.13.0"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/aann train --topology 2-8-1 --dataset xor --seeds 10 --t-row 0.1ps --epochs 1000 --out demo-out

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/native_vs_scipy.py

clean:
	rm -rf $(VENV) demo-out .pytest_cache
