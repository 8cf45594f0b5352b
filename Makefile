# Huying (呼应). `make help` lists the targets. The two that matter: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

.PHONY: install
install: $(VENV)/.installed ## Create the virtualenv and install every dependency

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: assets
assets: node_modules/.installed ## Install front-end packages (ECharts, axe-core) and vendor them into static/
	@mkdir -p static/vendor
	@cp node_modules/echarts/dist/echarts.min.js static/vendor/echarts.min.js

.PHONY: browser
browser: ## Install Debian's Chromium (browser tests) and LibreOffice (report conversion test); needs root
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei)); \
	  else echo "Chromium missing: install Debian's 'chromium' package for the browser tests."; fi; \
	fi
	@# LibreOffice (no GUI) and poppler: the e2e suite converts a weekly report to PDF and PNG pages
	@# as a second, independent reader of the workbook. Best effort: that test skips without them.
	@if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -qq libreoffice-calc-nogui poppler-utils >/dev/null 2>&1 \
	      || echo "LibreOffice not installed: the report conversion test will be skipped."; \
	  else echo "LibreOffice missing (Debian libreoffice-calc-nogui): the report conversion test will be skipped."; fi; \
	fi

.PHONY: deploy-tools
deploy-tools: ## Install Debian's nginx and systemd-analyze (tests through nginx, unit checks); needs root
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] || ! command -v systemd-analyze >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq nginx systemd >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nginx systemd)); \
	  else echo "nginx or systemd-analyze missing: install Debian's 'nginx' and 'systemd' for the deploy tests."; fi; \
	fi

.PHONY: migrate
migrate: install ## Apply database migrations
	$(MANAGE) migrate --noinput

.PHONY: seed
seed: migrate ## Load demo data (bureaus in 3 cities, one login per role, a few hundred appeals)
	$(MANAGE) seed_demo --if-empty

.PHONY: run
run: assets seed ## Set up and start everything: web (ASGI), Celery worker and scheduler, with demo data
	$(MANAGE) seed_demo --print-logins
	@echo ""
	@echo "  Public form:      http://$(HOST):$(PORT)/"
	@echo "  Track an appeal:  http://$(HOST):$(PORT)/track/"
	@echo "  Staff console:    http://$(HOST):$(PORT)/staff/"
	@echo "  Dashboard:        http://$(HOST):$(PORT)/analytics/"
	@echo "  Admin:            http://$(HOST):$(PORT)/admin/"
	@echo "  API docs:         http://$(HOST):$(PORT)/api/docs/"
	@echo ""
	HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho start -f Procfile

.PHONY: test
test: install assets browser deploy-tools ## Set up and run every test (embedded defaults: SQLite, in-memory layer)
	$(MANAGE) check --fail-level WARNING
	$(BIN)/pytest -n 2 -m "not e2e" $(PYTEST_ARGS)
	$(BIN)/pytest -n 2 -m e2e $(PYTEST_ARGS)

.PHONY: test-services
test-services: install assets browser deploy-tools ## Run every test against PostgreSQL and Redis (DATABASE_URL, REDIS_URL)
	@test -n "$$DATABASE_URL" || (echo "Set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/huying)"; exit 2)
	@test -n "$$REDIS_URL" || (echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0)"; exit 2)
	$(BIN)/pytest -n 2 -m "not e2e" $(PYTEST_ARGS)
	$(BIN)/pytest -n 2 -m e2e $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: format
format: install ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: typecheck
typecheck: install ## mypy with the Django plugin
	$(BIN)/mypy appeals routing notifications analytics knowledge alerts followup problems integrations config

.PHONY: checks
checks: install ## Django system checks and missing-migration check
	$(MANAGE) check --fail-level WARNING
	$(MANAGE) makemigrations --check --dry-run

.PHONY: docs
docs: install ## Regenerate the state diagram in docs/
	$(MANAGE) graph_transitions appeals.Appeal > docs/state-machine.dot
	$(MANAGE) state_diagram > docs/state-machine.md

.PHONY: bench
bench: install ## List the benchmarks; each one's command and figures are in docs/benchmarks.md
	@ls bench/*.py | sed 's/^/  /'

.PHONY: bench-routing
bench-routing: install ## Classifier accuracy and routing decision latency
	$(PY) bench/routing_accuracy.py

.PHONY: bench-portal
bench-portal: install ## Appeal submissions over real HTTP (needs DATABASE_URL pointing at PostgreSQL)
	$(PY) bench/submit_http.py --clients 32 --duration 20

.PHONY: bench-realtime
bench-realtime: install ## Websocket fan-out to 200 and 1,000 consoles (needs REDIS_URL)
	$(PY) bench/websocket_fanout.py --clients 200 1000 --dispatches 60

.PHONY: bench-webhooks
bench-webhooks: install ## Webhook fan-out and delivery after a receiver outage (docs/benchmarks.md, issue 16)
	$(PY) bench/webhooks_outage.py --events 2000 --appeals 100

.PHONY: clean
clean: ## Remove local data (database, broker folder, uploads) but keep the virtualenv
	rm -rf var staticfiles tests/artifacts
