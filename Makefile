# The two commands of the README: `make run` and `make test`. Everything else is their plumbing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST_PORT ?= 127.0.0.1:8000
# `make test` always runs on real PostgreSQL and Redis; override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/shequn
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test install services browser lint worker beat bench

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@set -e; mkdir -p .data; \
	if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then \
	  echo "Starting a Celery worker and beat (logs in .data/worker.log, .data/beat.log)"; \
	  trap 'kill $$(jobs -p) 2>/dev/null' EXIT; \
	  $(VENV)/bin/celery -A marketplace worker -l info --concurrency 2 > .data/worker.log 2>&1 & \
	  $(VENV)/bin/celery -A marketplace beat -l info -s .data/celerybeat-schedule > .data/beat.log 2>&1 & \
	fi; \
	echo "Shequn is served on http://$(HOST_PORT)/ (demo log-ins are listed above and in README.md)"; \
	$(PY) manage.py runserver $(HOST_PORT)

services:
	@bash .ci/services.sh

browser:
	@command -v chromium >/dev/null || { echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "Could not install chromium: run 'apt-get install chromium' as root"; exit 1; }; }

test: install services browser
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

worker:
	$(VENV)/bin/celery -A marketplace worker -l info

beat:
	$(VENV)/bin/celery -A marketplace beat -l info

bench: install services
	bash bench/run.sh
