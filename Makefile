# The two commands of the README are `make run` and `make test`; everything else is for day-to-day work.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
TEST_WORKERS ?= 2
# The stamp's name changes with the requirements, so an edited requirements file reinstalls.
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | sha1sum | cut -c1-12)
# `make run` is local development: a superuser for /admin/ unless the environment names another.
run: export DJANGO_SUPERUSER_EMAIL ?= admin@localhost.test
run: export DJANGO_SUPERUSER_PASSWORD ?= admin-local-password

.DEFAULT_GOAL := help
.PHONY: help install run test e2e lint format migrate bench worker scheduler db-stop clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements/base.txt requirements/dev.txt requirements/production.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install the pinned requirements

run: install ## Serve HTTP + websockets on http://localhost:$(PORT) (embedded DB without DATABASE_URL, in-process jobs without REDIS_URL)
	$(PY) manage.py init_platform
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo
	@echo "  Platform:         http://localhost:$(PORT)/"
	@echo "  Demo API docs:    http://demo.localhost:$(PORT)/api/docs/"
	@echo "  Demo dashboard:   http://demo.localhost:$(PORT)/dashboard/  (owner@demo.test / demo-owner-password)"
	@echo "  Demo chat page:   http://localhost:$(PORT)/chat/demo"
	@echo "  New agency:       http://localhost:$(PORT)/onboarding/"
	@echo "  Admin:            http://localhost:$(PORT)/admin/  ($$DJANGO_SUPERUSER_EMAIL / $$DJANGO_SUPERUSER_PASSWORD)"
	@echo "  Health:           http://localhost:$(PORT)/healthz"
	@echo "  Demo API key:     $(PY) manage.py create_api_key demo --name local"
	@echo
	$(VENV)/bin/daphne --bind $(HOST) --port $(PORT) asgi:application

test: install ## Lint, then run the whole test suite in parallel (embedded DB unless TEST_DATABASE_URL)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n $(TEST_WORKERS) -p no:cacheprovider -m "not e2e"

e2e: install ## Browser tests of the chat widget (Playwright + Debian's chromium, installed when missing)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)
	EMBEDDED_PGDATA=/tmp/e2e-pgdata $(VENV)/bin/pytest tests/e2e -m e2e -p no:cacheprovider

lint: install ## Check lint and formatting (ruff)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## Fix lint where safe and format the code (ruff)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: install ## Migrate the shared schema, every organization and the tenant template
	$(PY) manage.py init_platform

bench: install ## Run every benchmark under benchmarks/ (prints ratios against a baseline in the same run)
	@for script in benchmarks/[a-z]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

worker: install ## Run Dramatiq workers (needs REDIS_URL or an amqp:// BROKER_URL)
	$(PY) manage.py rundramatiq

scheduler: install ## Run the periodic scheduler (needs REDIS_URL or an amqp:// BROKER_URL)
	$(PY) manage.py run_scheduler

db-stop: ## Stop the embedded PostgreSQL server
	@$(if $(wildcard $(PY)),$(PY),$(PYTHON)) -m config.embedded_db stop

clean: db-stop ## Remove the virtualenv, the embedded database and caches
	rm -rf $(VENV) .pgdata .pgdata.lock staticfiles .pytest_cache .ruff_cache
