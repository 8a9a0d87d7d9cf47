# Tepat: two commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_PERSONS ?= 30000
DEMO_REGENCY ?= 3273
PYTEST_ARGS ?=

.PHONY: install demo test lint migrate serve clean-demo

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/tepat migrate --noinput

# Builds a synthetic regency on the embedded SQLite database and serves the app.
demo: install
	$(BIN)/tepat demo --regency $(DEMO_REGENCY) --persons $(DEMO_PERSONS)
	$(BIN)/tepat runserver 127.0.0.1:8000

test: install
	TEPAT_VAR_DIR=$(CURDIR)/var/test $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

clean-demo:
	rm -rf var/demo var/tepat.sqlite3*
