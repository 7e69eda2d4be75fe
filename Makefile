# Sightline: `make run` starts the complete local stack; `make test` runs every test.
# Both bootstrap what they need on a fresh machine (virtualenv, node packages, Chromium).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# checkov pins packages that conflict with the app's; it gets its own virtualenv.
TOOLS_VENV := .venv-tools
# The CDK CLI pinned in package.json, offline: no notices, no telemetry. jsii warns that
# node 20 is past end of life on every run; the machine image ships node 20 (see decisions).
CDK := cd infrastructure && JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_CLI_TELEMETRY=true \
	../node_modules/.bin/cdk --no-notices
# Deployment settings: make deploy CDK_CONTEXT="-c force_name='...' -c site_domain=... ..."
CDK_CONTEXT ?=

.PHONY: run test deps pages browser clean synth deploy officer-token

run: deps
	$(PY) -m local.stack

test: deps browser
	$(PY) -m pytest

deps: $(VENV)/.installed $(TOOLS_VENV)/.installed node_modules/.installed site/vendor/leaflet/leaflet.js \
	site/vendor/hash-wasm/sha256.umd.min.js console/vendor/.copied pages

# Each app's pages are rendered from templates/pages/<app>/ into <app>/ (committed; a unit test
# fails when one differs from its rendering). Pages are remade when any template is newer.
PAGE_APPS := $(notdir $(patsubst %/,%,$(filter-out templates/pages/_%,$(wildcard templates/pages/*/))))
PAGES := $(foreach app,$(PAGE_APPS),$(patsubst templates/pages/$(app)/%,$(app)/%,\
	$(filter-out templates/pages/$(app)/_%,$(wildcard templates/pages/$(app)/*.html))))
PAGE_SOURCES := $(wildcard templates/pages/*.html $(foreach app,$(PAGE_APPS),templates/pages/$(app)/*.html))

pages: $(PAGES)

$(PAGES) &: $(PAGE_SOURCES) tools/build_pages.py $(VENV)/.installed
	$(PY) -m tools.build_pages

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(TOOLS_VENV)/.installed: infrastructure/requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r infrastructure/requirements-tools.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

site/vendor/leaflet/leaflet.js: node_modules/.installed
	mkdir -p site/vendor/leaflet
	cp -r node_modules/leaflet/dist/. site/vendor/leaflet/

# The respond page's streaming SHA-256: WebAssembly, carried inside the script (the site's CSP
# allows 'wasm-unsafe-eval' for it; docs/decisions.md).
site/vendor/hash-wasm/sha256.umd.min.js: node_modules/.installed
	mkdir -p site/vendor/hash-wasm
	cp node_modules/hash-wasm/dist/sha256.umd.min.js site/vendor/hash-wasm/

# The officers' console: Leaflet, its marker clustering, the QR code of a TOTP enrolment and
# the site's stylesheet, which the console builds on.
console/vendor/.copied: node_modules/.installed site/css/site.css
	mkdir -p console/vendor/leaflet console/vendor/markercluster console/vendor/qrcode console/vendor/sightline
	cp -r node_modules/leaflet/dist/. console/vendor/leaflet/
	cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js node_modules/leaflet.markercluster/dist/MarkerCluster.css \
		node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css console/vendor/markercluster/
	cp node_modules/qrcode-generator/dist/qrcode.mjs console/vendor/qrcode/
	cp site/css/site.css console/vendor/sightline/
	touch $@

# End-to-end tests drive Debian's Chromium; never a downloaded browser build.
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# An access token for the running local stack's demo officer (ARGS=--supervisor for the
# demo supervisor):  curl -H "Authorization: Bearer $$(make -s officer-token)" ...
officer-token: $(VENV)/.installed
	@$(PY) -m local.officer_token $(ARGS)

# Synthesise the CloudFormation templates into infrastructure/cdk.out/ (no AWS account needed).
synth: deps
	$(CDK) synth --quiet $(CDK_CONTEXT)

# Deploy to the account and region of the current AWS credentials, then publish the site.
# Needs a bootstrapped account: see README, "Deploying".
deploy: deps
	$(CDK) deploy --all --require-approval broadening --outputs-file cdk.out/outputs.json $(CDK_CONTEXT)
	$(PY) infrastructure/publish_site.py --outputs infrastructure/cdk.out/outputs.json

clean:
	rm -rf $(VENV) $(TOOLS_VENV) node_modules site/vendor console/vendor var .pytest_cache infrastructure/build infrastructure/cdk.out

# Geo search benchmark (bench/README.md): private in-memory dynalite, ~10 minutes on 2 cores.
bench: deps
	$(PY) -m bench.search_bench
