# The two commands of the README: `make demo` and `make test`. Both build .venv on their own.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck unit bench bytecode chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(MAKE) --no-print-directory bytecode
	touch $(STAMP)

# Compiled modules, as `pip install` writes them for an installed package: an editable install
# leaves them to the first run, which may not write them (PYTHONDONTWRITEBYTECODE), so every
# process would compile the package again (~0.15 s of start-up). Stale files are never used:
# Python checks each against its source.
bytecode:
	$(BIN)/python -m compileall -q scf_batch

demo: $(STAMP)
	$(BIN)/scf-batch demo

lint: $(STAMP)
	$(BIN)/ruff check scf_batch tests bench
	$(BIN)/ruff format --check scf_batch tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck chromium unit

# everything but the suites marked slow (real subprocesses, the browser): under a minute
test-fast: $(STAMP)
	$(BIN)/ruff check scf_batch tests bench
	$(BIN)/python -m pytest -m "not slow" -q

# The benchmarks, each printing ratios measured side by side (bench/results/*.json); ~20 minutes.
bench: $(STAMP) bytecode
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/state_aware.py
	$(BIN)/python bench/validate_throughput.py

# Headless Chromium for the browser test of `report --html` (tests/test_htmlreport.py).
# Debian's chromium for the browser test: as root, or through sudo; where neither can install
# it, the test skips saying why (and fails on CI)
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; \
	  else echo "make chromium: not root and no sudo: the browser test will be skipped"; exit 0; fi; \
	  $$SUDO apt-get update && $$SUDO apt-get install -y chromium \
	  || echo "make chromium: could not install chromium: the browser test will be skipped"; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
