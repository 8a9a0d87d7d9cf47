# Tepat: two commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
DEMO_PERSONS ?= 50000
DEMO_REGENCY ?= 3273
DEMO_ADDR ?= 127.0.0.1:8000
DEMO_SIM_PORT ?= 8765
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
# The SMS simulator page (/sms/simulator/) too: the demo's gateway is the simulator, no phone.
DEMO_ENV := $(DEV_ENV) TEPAT_SMS_SIMULATOR=true

# The web server and, beside it, the worker that runs background work (an upload's import, a
# link run: each app's tasks.py), the payment provider simulator (signing as each provider with
# the keys `tepat demo` made under var/demo/provider-sim) and the payments worker that pays
# through it and sends the SMS outboxes to the SMS simulator; stopping the server (Ctrl+C) stops
# them all.
DEMO_VAR = $${TEPAT_VAR_DIR:-$(CURDIR)/var}
PAY_ENV := TEPAT_PROVIDER_URL=http://127.0.0.1:$(DEMO_SIM_PORT) \
	TEPAT_PROVIDER_KEYS_FILE=$(DEMO_VAR)/demo/provider-sim/keys.public.json
SERVE := $(DEV_ENV) $(BIN)/tepat db_worker --queue-name '*' --no-reload & worker=$$!; \
	$(DEV_ENV) $(BIN)/tepat provider-sim --port $(DEMO_SIM_PORT) \
		--statement-dir $(DEMO_VAR)/demo/provider-sim & sim=$$!; \
	for i in $$(seq 100); do [ -f $(DEMO_VAR)/demo/provider-sim/keys.public.json ] && break; \
		sleep 0.2; done; \
	$(DEV_ENV) $(PAY_ENV) $(BIN)/tepat worker --sms & payer=$$!; \
	trap 'kill $$worker $$sim $$payer 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(PAY_ENV) $(BIN)/tepat runserver $(DEMO_ADDR)

demo: install
	$(DEV_ENV) $(BIN)/tepat demo --regency $(DEMO_REGENCY) --persons $(DEMO_PERSONS) \
		--addr $(DEMO_ADDR)
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
	rm -rf var/demo var/tepat.sqlite3* var/ledger var/opendata var/sms-sim
