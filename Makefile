# STEM-Lab Hub: the two commands of the README.
#   make up    install everything, then run the platform with demo data (Ctrl-C stops it)
#   make test  install everything plus the test extras and Chromium, then run the whole suite
# Other targets: install, test-deps, bench, clean.

# Debian's Python when it is new enough: in production mode students' servers run as the
# students, who must be able to run the interpreter (pyenv's under /root is closed to them).
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
            && echo /usr/bin/python3 || echo python3)
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
	$(BIN)/python -m lab_hardware.stubs install
	touch $@

# The proxy comes from the npm registry into ./node_modules: no global install.
node_modules/.bin/configurable-http-proxy: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

test-deps: install $(TSTAMP)
	./.ci/install-system-deps

$(TSTAMP): pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

test: test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: test-deps
	$(BIN)/python tests/bench/login_storm.py
	$(BIN)/python tests/bench/kit_link.py
	$(BIN)/python tests/bench/kit_link.py --device qemu:lab
	$(BIN)/python tests/bench/autograde.py
	$(BIN)/python tests/bench/province.py

clean:
	rm -rf $(VENV) node_modules build *.egg-info test-artifacts
