# The two commands: `make demo` and `make test`. Both create .venv and install everything.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11, 4))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PLOTLY_JS := hub_config/voila/templates/coop/static/plotly-basic.min.js

.PHONY: demo test test-fast lint bench clean

$(STAMP): pyproject.toml extensions/coop_client/pyproject.toml extensions/coop_widgets/pyproject.toml package.json Makefile \
		challenge_notebooks/higgs/requirements.txt
	@test -n "$(PYTHON)" || { echo "Python >= 3.11.4 is required"; exit 1; }
	@command -v npm >/dev/null 2>&1 || { echo "npm is required (configurable-http-proxy)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e extensions/coop_client -e extensions/coop_widgets -e '.[test,production]'
	# JupyterHub 5.5 (what Zero to JupyterHub ships) beside 6.x: tests/hub/test_jupyterhub55.py runs the config on it
	$(BIN)/python -m pip install --quiet --no-deps --target $(VENV)/jupyterhub-5.5 'jupyterhub==5.5.*'
	# Wheels challenge environments are built from without the internet (tests, the demo): the
	# kernel side pinned as installed, build backends, the demo challenge's requirements
	$(BIN)/python -m scorer.environments.wheelhouse $(VENV)/wheelhouse challenge_notebooks/higgs/requirements.txt
	npm install --no-audit --no-fund --silent
	# plotly.js for the dashboards' graph, a static file of their Voila template (tornado serves no
	# symlink that leaves the template's folder)
	install -D -m 644 node_modules/plotly.js-basic-dist-min/plotly-basic.min.js $(PLOTLY_JS)
	touch $@

demo: $(STAMP)
	$(BIN)/coop up --demo

test: lint
	$(BIN)/python -m pytest --durations=25

# The edit loop: the pure core, without the tests that start processes (marked slow by
# tests/conftest.py from the fixtures they use); `make test` stays the whole suite.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

# Drift checks, part of `make test`: lint, formatting, and types (paths and settings in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .coop node_modules $(PLOTLY_JS)
