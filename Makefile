# NodeFlow: `make run` runs it (embedded mode), `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test frontend-check setup setup-dev sandbox-deps services migrate check

run: setup sandbox-deps
	$(BIN)/python manage.py nodeflow dev

# The code node's sandbox (bubblewrap, seccomp), installed as `make test` does; where it cannot be
# (no root, no sudo), NodeFlow still starts and says at start-up how to enable code nodes.
sandbox-deps:
	-@bash scripts/system-deps.sh bubblewrap libseccomp2

# Test processes at once (pytest-xdist; 1 runs the suite in this process): its tests mostly wait on worker
# processes, browsers, sockets and timers, so three keep a 2-core machine busy. The chaos tests (tests/chaos/)
# run after them, alone and one at a time: they kill and restart whole deployments and time outages, which a
# machine loaded by two other test processes stretched past their timers.
TEST_PROCESSES ?= 3

test: setup-dev services frontend-check
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist worksteal --durations=20 -m "not chaos"
	$(BIN)/python -m pytest --durations=10 -m chaos

# The editor: vitest unit tests, type check, and the committed bundle rebuilt from source and compared.
frontend-check:
	@sh frontend/scripts/check.sh

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev
	@bash scripts/system-deps.sh

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(VENV)/.installed $@

services:
	@bash scripts/services.sh

migrate: setup
	$(BIN)/python manage.py migrate

check: setup
	$(BIN)/python manage.py check
