# STEM-Lab Hub: the two commands of the README.
#   make up    install everything, then run the platform with demo data (Ctrl-C stops it)
#   make test  install everything plus the test extras and Chromium, then run the whole suite
# Other targets: install, test-deps, bench, clean.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.test-installed
PYTEST_ARGS ?=

.PHONY: up install test test-deps bench clean

up: install
	$(BIN)/stemlab up $(UP_ARGS)

install: $(STAMP) node_modules/.bin/configurable-http-proxy

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The proxy comes from the npm registry into ./node_modules: no global install.
node_modules/.bin/configurable-http-proxy: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

test-deps: install $(TSTAMP)
	./.ci/install-browser

$(TSTAMP): pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

test: test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: test-deps
	$(BIN)/python tests/bench/login_storm.py

clean:
	rm -rf $(VENV) node_modules build *.egg-info test-artifacts
