# Only python3 is assumed on the machine; every target builds .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test test-unit test-flows bench lint clean chromium

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/junkan demo --workdir demo-output

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

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
	$(BIN)/ruff check .; ruff_rc=$$?; $(BIN)/mypy junkan && exit $$ruff_rc


clean:
	rm -rf $(VENV) demo-output .pytest_cache
