# Every target creates .venv when it is missing, so a fresh clone needs nothing but python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint types check sanitize bench clean

$(STAMP): pyproject.toml setup.py $(wildcard logscan/_native*.[ch])
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Each bundled sample, as a person sees it (the JSON form is in <name>.expected.jsonl).
demo: $(STAMP)
	@for f in samples/*/*.log samples/*/*.jsonl; do \
	  case $$f in *.expected.jsonl) continue;; esac; \
	  echo "=== logscan scan $$f"; \
	  $(BIN)/logscan scan --format console --fail-on none "$$f" || exit 1; \
	done

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check logscan tests scripts
	$(BIN)/ruff format --check logscan tests scripts

types: $(STAMP)
	$(BIN)/mypy

check: lint types test

# The tests that drive the C part, on a build with ASan and UBSan (needs gcc or clang).
sanitize: $(STAMP)
	scripts/sanitize.sh

# Throughput and peak RSS next to grep and wc on a synthetic corpus, cached in bench-out/, then
# `logscan watch` follow latency and idle CPU (docs/benchmarks.md). The issue's full numbers:
# $(BIN)/python scripts/bench.py --runs 5
bench: $(STAMP)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
