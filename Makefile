# Tepat: two commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
DEMO_PERSONS ?= 50000
DEMO_REGENCY ?= 3273
DEMO_ADDR ?= 127.0.0.1:8000
PYTEST_ARGS ?=

.PHONY: install install-dev demo test lint serve clean-demo

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3

$(STAMP): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(DEV_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

# Builds a synthetic regency on the embedded SQLite database and serves the app. TEPAT_DEV=true:
# a demo on this machine (keys generated under var/keys, plain HTTP); never in production.
DEV_ENV := TEPAT_DEV=true

# The web server and, beside it, the worker that runs background work (an upload's import, a
# link run: each app's tasks.py); stopping the server (Ctrl+C) stops the worker too.
SERVE := $(DEV_ENV) $(BIN)/tepat db_worker --queue-name '*' --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(BIN)/tepat runserver $(DEMO_ADDR)

demo: install
	$(DEV_ENV) $(BIN)/tepat demo --regency $(DEMO_REGENCY) --persons $(DEMO_PERSONS)
	$(SERVE)

serve: install
	$(SERVE)

test: install-dev
	TEPAT_VAR_DIR=$(CURDIR)/var/test $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy src

clean-demo:
	rm -rf var/demo var/tepat.sqlite3* var/ledger
