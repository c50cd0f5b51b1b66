# STEM-Lab Hub: the two commands of the README.
#   make up    install everything, then run the platform with demo data (Ctrl-C stops it)
#   make test  install everything plus the test extras and Chromium, then run the whole suite
# Other targets: install, test-deps, bench, bundle (an offline install's folder), clean.

# Debian's Python when it is new enough: in production mode students' servers run as the
# students, who must be able to run the interpreter (pyenv's under /root is closed to them).
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
            && echo /usr/bin/python3 || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.test-installed
PYTEST_ARGS ?=

# An offline install (no package registry reachable): `make up BUNDLE=path/to/bundle`, a folder
# written by `make bundle` on a connected machine (deploy/make-bundle). pip and npm then read only it.
BUNDLE ?=
ifneq ($(BUNDLE),)
BUNDLE_DIR := $(abspath $(BUNDLE))
export PIP_NO_INDEX := 1
export PIP_FIND_LINKS := $(BUNDLE_DIR)/wheels $(BUNDLE_DIR)/stubs
NPM_FLAGS := --offline --cache $(BUNDLE_DIR)/npm-cache
CHECK_BUNDLE := cd $(BUNDLE_DIR) && sha256sum --quiet --strict --check SHA256SUMS || \
  { echo "The bundle $(BUNDLE_DIR) is damaged or incomplete (above: the files that differ). Copy it again." >&2; exit 1; }
else
CHECK_BUNDLE := true
endif

.PHONY: up install test test-deps bench bundle clean

up: install
	$(BIN)/stemlab up $(UP_ARGS)

install: $(STAMP) node_modules/.bin/configurable-http-proxy

$(STAMP): pyproject.toml
	@$(CHECK_BUNDLE)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m lab_hardware.stubs install
	touch $@

# The proxy comes from the npm registry into ./node_modules: no global install.
node_modules/.bin/configurable-http-proxy: package.json package-lock.json
	@$(CHECK_BUNDLE)
	npm ci --no-audit --no-fund $(NPM_FLAGS)
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

# One folder with everything `make up` installs, for a lab server without the registries.
BUNDLE_OUT ?= bundle
bundle: install
	./deploy/make-bundle $(BUNDLE_OUT)

clean:
	rm -rf $(VENV) node_modules build *.egg-info test-artifacts
