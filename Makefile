# Sésame — the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint audit messages migrate demo totp tap bench-taps bench-canteen clean check-python

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Sésame needs Python 3.11 or newer")'

$(PY): | check-python
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the pins change.
$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

# Translations are compiled in the build (pure Python: no gettext needed on the machine).
messages: $(VENV)/.runtime
	$(VENV)/bin/pybabel compile --statistics -d locale -D django

migrate: $(VENV)/.runtime messages
	DEBUG=1 $(PY) manage.py migrate --noinput

demo: migrate
	DEBUG=1 $(PY) manage.py load_demo

# Serves the demo on http://$(HOST):$(PORT) with the background-task worker beside it.
run: demo
	@echo "Sésame on http://$(HOST):$(PORT)/ — Ctrl-C stops the server and the task worker."
	@DEBUG=1 $(PY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.dev messages
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Known vulnerabilities of the pinned dependencies (pip-audit); says NOT AUDITED when no advisory
# source can be reached from this machine (.ci/audit.py).
audit: $(VENV)/.dev
	$(PY) .ci/audit.py

# Current second-factor code of a demo staff account: make totp EMAIL=accueil@demo.sesame.fr
totp: $(VENV)/.runtime
	@DEBUG=1 $(PY) manage.py demo_totp $(EMAIL) $(if $(SECRET),--secret,)

# Tap the demo card at the first pool entrance of the running demo (make run in another
# terminal). REPLAY=1 sends the previous message again; CARD= and ACCESS_POINT= pick others.
SERVER ?= http://$(HOST):$(PORT)
tap: $(VENV)/.runtime
	@DEBUG=1 $(PY) manage.py simulate_tap --server $(SERVER) \
		$(if $(CARD),--card=$(CARD),) $(if $(ACCESS_POINT),--access-point=$(ACCESS_POINT),) \
		$(if $(REPLAY),--replay,)

# Tap throughput and latency against gunicorn on PostgreSQL, with the framework ceiling and
# the least work a tap can do as references (bench/README.md). Its own database, sesame_bench,
# on the server of DATABASE_URL (or 127.0.0.1); BENCH_DATABASE_URL= picks another, BENCH_ARGS=
# passes options (python -m bench.taps --help). Under 3 minutes; exits 0 when a target is missed.
bench-taps: $(VENV)/.runtime
	$(PY) -m bench.taps $(BENCH_ARGS)

# The morning canteen bookings open: 5,000 households book a month of lunches for their children
# at once through POST /api/v1/canteen/bookings (their sessions), against gunicorn on PostgreSQL,
# next to the least work a month booking can do (bench/README.md, "make bench-canteen"). Same
# database as bench-taps; under 5 minutes; exits 0 when a target is missed.
bench-canteen: $(VENV)/.runtime
	$(PY) -m bench.canteen $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var

# --- Kiosks (docs/kiosk-agent.md) ---
.PHONY: kiosk-demo kiosk-screen bench-kiosk

# The demo card emulated on nfcpy's UDP driver (counter in var/simulated-cards.json, shared with
# make tap), read by the real reader agent (gate mode, --once) against the running demo (make run
# in another terminal); the agent prints the server's JSON answer as its last line. KIOSK=1 taps
# at the demo kiosk of the pool's hall instead; `make kiosk-screen` prints a one-time link that
# pairs a browser with that kiosk's screen (open it first, then tap).
kiosk-demo: $(VENV)/.runtime
	@DEBUG=1 $(PY) manage.py kiosk_demo --server $(SERVER) \
		$(if $(ACCESS_POINT),--access-point=$(ACCESS_POINT),) $(if $(KIOSK),--kiosk,)

kiosk-screen: $(VENV)/.runtime
	@DEBUG=1 $(PY) manage.py kiosk_demo --screen-link --server $(SERVER)

# Tap-to-screen latency over nfcpy's UDP driver (bench/README.md, "make bench-kiosk"); about 20 s.
bench-kiosk: $(VENV)/.dev
	$(PY) -m bench.kiosk $(BENCH_ARGS)
