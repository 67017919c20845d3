# `make demo` serves the demo page and a store on local disk, with a moto server standing in for S3
# on MOTO_PORT; `make test` runs every test.
# Both install what they need first: the Python venv, the browser runtime from the npm registry
# (pinned by package-lock.json) and, for the tests, Debian's Chromium, PostgreSQL and ffmpeg.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
MOTO_PORT ?= 5000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench setup clean postgresql

demo: setup
	MOTO_PORT=$(MOTO_PORT) $(PY) -m store.demo --port $(PORT)

test: lint /usr/bin/chromium /usr/bin/ffprobe postgresql
	$(PY) -m pytest

# ruff and mypy over the whole project (settings in pyproject.toml); strict on the picker's pure core.
lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: setup /usr/bin/chromium /usr/bin/ffprobe
	$(PY) -m bench.boot
	$(PY) -m bench.first_visit
	$(PY) -m bench.uploads
	$(PY) -m bench.recording

setup: $(VENV)/.installed node_modules/.installed build/compressed/.made

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Compressed copies of the runtime, served by Accept-Encoding (store/precompress.py; not committed).
build/compressed/.made: node_modules/.installed $(VENV)/.installed store/precompress.py
	$(PY) -m store.precompress
	touch $@

/usr/bin/chromium:
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y chromium

# The tests start PostgreSQL clusters of their own (harness/postgres.py) from Debian's binaries,
# found under a versioned folder: installed when none is there.
postgresql:
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql; }

# ffprobe reads the recordings the capture tests store (container and duration).
/usr/bin/ffprobe:
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y --no-install-recommends ffmpeg

clean:
	rm -rf $(VENV) node_modules data build
