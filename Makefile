# usegan: two commands. `make run` sets up and starts the app; `make test` sets up and runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
USEGAN_HOST ?= localhost
USEGAN_PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
# Debian packages: chromium (browser tests), poppler-utils (PDF read-back), a CJK font (Chinese reports).
TEST_APT := chromium poppler-utils fonts-wqy-microhei
RUN_APT := fonts-wqy-microhei

.PHONY: run test test-slow lint format bench model clean-venv apt-run apt-test dicom-listen

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# Install missing Debian packages only (no-op when present); a failure to install is reported, not fatal for `run`.
apt-run:
	@missing=$$(for p in $(RUN_APT); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; \
	  ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing) >/dev/null || \
	  echo "warning: could not install $$missing (Chinese text in PDF reports will fall back)"; fi

apt-test:
	@missing=$$(for p in $(TEST_APT); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

# The app process: web server + background worker (spool import, job collection), whether or not a browser is open.
run: $(VENV)/.installed apt-run
	$(BIN)/usegan serve --host $(USEGAN_HOST) --port $(USEGAN_PORT)

test: $(VENV)/.installed-test apt-test
	$(BIN)/python -m pytest -m "not slow" -q

test-slow: $(VENV)/.installed-test apt-test
	$(BIN)/python -m pytest -m slow -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed
	$(BIN)/usegan bench --json

model: $(VENV)/.installed  # REAL=DIR: the real lesion-free scans (default ../shared/real-bmode/breast-normal)
	$(BIN)/python scripts/train_bundled_models.py $(if $(REAL),--real $(REAL))

dicom-listen: $(VENV)/.installed
	$(BIN)/usegan dicom listen

clean-venv:
	rm -rf $(VENV)
