# Only python3 is assumed on the machine; every target builds .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test test-e2e bench lint clean chromium

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/junkan demo --workdir demo-output

# Every test but tests/e2e, spread over one pytest-xdist worker per CPU (each with its own database and
# Prefect harness); the tests of the shared `demo` run stay on one worker (--dist loadgroup).
TEST_WORKERS ?= auto
test: $(STAMP) chromium
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup --ignore=tests/e2e

# The end-to-end run of `daily` on a real Prefect server and the fault drill: minutes each, one server
# shared by both, so in one process (docs/operations.md, "End-to-end and fault-drill tests").
test-e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/e2e

# The PDF report and its browser tests print with Debian's Chromium and a Japanese font (root or sudo
# needed once); Playwright drives it at /usr/bin/chromium and never downloads a browser of its own.
chromium:
	command -v chromium >/dev/null || (apt-get update && \
		apt-get install -y --no-install-recommends chromium fonts-ipaexfont-gothic)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python bench/ingest.py --n 100000
	$(BIN)/python bench/ingest_floor.py --n 100000
	$(BIN)/python bench/notify.py --n 10000 --latency-ms 20
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/daily.py

# Both checkers run even when the first one fails; the target fails if either does.
lint: $(STAMP)
	$(BIN)/ruff check .; ruff_rc=$$?; $(BIN)/mypy && exit $$ruff_rc


clean:
	rm -rf $(VENV) demo-output .pytest_cache
