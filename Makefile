# Sightline: `make run` starts the complete local stack; `make test` runs every test.
# Both bootstrap what they need on a fresh machine (virtualenv, node packages, Chromium).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test deps browser clean

run: deps
	$(PY) -m local.stack

test: deps browser
	$(PY) -m pytest

deps: $(VENV)/.installed node_modules/.installed site/vendor/leaflet/leaflet.js

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

site/vendor/leaflet/leaflet.js: node_modules/.installed
	mkdir -p site/vendor/leaflet
	cp -r node_modules/leaflet/dist/. site/vendor/leaflet/

# End-to-end tests drive Debian's Chromium; never a downloaded browser build.
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf $(VENV) node_modules site/vendor var .pytest_cache
