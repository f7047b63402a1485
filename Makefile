# Weishi: `make run` serves the demo on http://127.0.0.1:8000; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
RUN_DEBS := fonts-noto-cjk libharfbuzz-subset0 gettext
TEST_DEBS := $(RUN_DEBS) poppler-utils chromium nginx openssl zbar-tools
HOST ?= 127.0.0.1
PORT ?= 8000
AXE := node_modules/axe-core/axe.min.js

.PHONY: run test lint pytest messages install clean screenshots

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Weishi needs Python >= 3.12 (see .python-version); found " + sys.version)'
	@[ -x $(PY) ] || { echo "Creating the virtual environment $(VENV)…"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing Python packages (about 3 minutes on a first run; pip's output: $(VENV)/install.log)…"
	@set -o pipefail; export PYTHONUNBUFFERED=1; \
	  $(PY) -m pip install --disable-pip-version-check --upgrade pip > $(VENV)/install.log 2>&1 \
	  && $(PY) -m pip install --disable-pip-version-check -e '.[dev]' 2>&1 | $(PY) bin/pip-progress $(VENV)/install.log \
	  || { tail -n 40 $(VENV)/install.log; exit 1; }
	@$(PY) -c 'import django, channels; assert django.VERSION[:2] == (6, 1), django.VERSION'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

messages: $(STAMP)
	@DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv -v0

# What the PDFs and notices print as the site's address: where this serves, unless set.
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP)
	@bin/ensure-debs $(RUN_DEBS)
	@echo "Compiling the translations…"
	@$(MAKE) --no-print-directory messages
	@echo "Preparing the database (db.sqlite3)…"
	@DEBUG=1 $(PY) manage.py migrate --no-input -v0
	@echo "The evidence log's signing key: $(CURDIR)/var/log-signing.key (made once, never committed)"
	@DEBUG=1 $(PY) manage.py log_key > /dev/null
	@echo "Loading the demo data…"
	@DEBUG=1 $(PY) manage.py seed_demo
	@# A database made before search existed has an empty index: fill it (a second on the demo).
	@DEBUG=1 $(PY) manage.py search_index_rebuild -v0
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C stops; the minute scheduler runs alongside)"
	@DEBUG=1 $(PY) manage.py minutely --loop > $(VENV)/minutely.log 2>&1 & scheduler=$$!; \
	  trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	  DEBUG=1 $(VENV)/bin/daphne -b $(HOST) -p $(PORT) config.asgi:application

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	PY=$(PY) bin/check-translations

# axe-core (package.json), injected by tests/e2e/test_accessibility.py.
$(AXE): package.json package-lock.json
	@command -v npm > /dev/null || bin/ensure-debs nodejs npm
	@npm ci --no-audit --no-fund
	@touch $@

# The suite in three phases (tests/conftest.py says which test is in which, and why): most
# tests spread over PYTEST_WORKERS processes (pytest-xdist: one per core, at most 8), then the
# browser tests spread the same way, then the tests that must have the machine to themselves,
# one at a time. PYTEST_ARGS goes to each: `make pytest PYTEST_ARGS=tests/voting` runs the
# voting tests (a phase that finds none of them is no failure; all finding none is). A failed
# phase fails the run, once the others have run too.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$((n < 8 ? n : 8)))
PYTEST := $(VENV)/bin/pytest

pytest: $(STAMP) messages $(AXE)
	@$(PYTEST) --phase=parallel -n $(PYTEST_WORKERS) --dist load $(PYTEST_ARGS); parallel=$$?; \
	  $(PYTEST) --phase=browser -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS); browser=$$?; \
	  $(PYTEST) --phase=serial $(PYTEST_ARGS); serial=$$?; \
	  for status in $$parallel $$browser $$serial; do [[ $$status == [05] ]] || exit $$status; done; \
	  [[ $$parallel$$browser$$serial != 555 ]] || { echo "No test ran: PYTEST_ARGS chose none."; exit 5; }

test: $(STAMP)
	@bin/ensure-debs $(TEST_DEBS)
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory pytest

# A reviewer's extra: the home page per role, 390 px and 1366 px, normal and 长辈版, into
# screenshots/ (tests/e2e/screenshots.py).
screenshots: $(STAMP) messages
	@bin/ensure-debs $(RUN_DEBS) chromium
	@$(VENV)/bin/pytest -q -s -p no:cacheprovider tests/e2e/screenshots.py

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-*
