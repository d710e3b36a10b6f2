# TMCS — two commands: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py

export TMCS_PG_PORT ?= 54329
export TMCS_REDIS_PORT ?= 63799
export TMCS_WEB_PORT ?= 8000
export DJANGO_SETTINGS_MODULE := tmcs.settings
# Tests use their own Redis database so that they never see `make run`'s queues.
TEST_REDIS_URL := redis://127.0.0.1:$(TMCS_REDIS_PORT)/1
# Parallel test processes (pytest-xdist): each gets its own PostgreSQL database (pytest-django)
# and its own Redis database (tmcs/settings.py). TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2

.PHONY: help deps venv services run web test stop lint format messages makemessages static migrate demo bench clean

help:
	@echo "make run    install what is missing, start PostgreSQL/PostGIS + Redis + web + Celery worker + beat, load the demo region"
	@echo "make test   the same infrastructure, then the test suite"
	@echo "make stop   stop what make run started"
	@echo "make lint   ruff check + format check        make bench   benchmarks (N=100000 parcels)"

deps:
	@bash scripts/system-deps.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: deps $(VENV)/.installed

services: deps
	@bash scripts/services.sh start

messages: venv
	@$(MANAGE) compilemessages --ignore='.venv/*' --ignore='.local/*' --ignore='staticfiles/*' -v 0

makemessages: venv
	$(MANAGE) makemessages -l en --ignore='.venv/*' --ignore='.local/*' --ignore='staticfiles/*' --no-obsolete

migrate: venv services
	@$(MANAGE) migrate --noinput -v 0

static: venv
	@$(MANAGE) collectstatic --noinput -v 0

demo: migrate
	@$(MANAGE) load_demo_region
	@$(MANAGE) load_demo_assets
	@$(MANAGE) load_demo_valuation
	@$(MANAGE) load_demo_trading
	@$(MANAGE) load_demo_finance
	@$(MANAGE) load_demo_projects
	@$(MANAGE) load_demo_greenfinance
	@$(MANAGE) load_demo_exchange
	@$(MANAGE) load_demo_brand

run: venv services messages migrate static demo
	@mkdir -p .local
	@echo "==> TMCS: http://127.0.0.1:$(TMCS_WEB_PORT)/  (API: /api/v1/, docs: /api/v1/docs/, health: /healthz)"
	@echo $$$$ > .local/honcho.pid; exec $(VENV)/bin/honcho -f Procfile start

test: venv services messages
	@REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

stop:
	@if [ -f .local/honcho.pid ] && kill -0 $$(cat .local/honcho.pid) 2>/dev/null; then \
	  echo "==> stopping web, worker and beat"; kill -TERM $$(cat .local/honcho.pid); sleep 2; fi; rm -f .local/honcho.pid
	@bash scripts/services.sh stop

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: migrate
	@$(PY) bench/run.py $(BENCH)
	@$(PY) bench/registry.py --n $(or $(N),100000)
	@$(PY) bench/valuation.py --n $(or $(N),100000)
	@$(PY) bench/trading.py
	@$(PY) bench/bank_api.py
	@$(PY) bench/exchange.py

clean: stop
	rm -rf .local staticfiles
