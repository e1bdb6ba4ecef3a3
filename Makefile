# Two commands matter on a fresh machine: `make run` and `make test` (see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint check venv system-deps bench-deps console-assets hapi-jar hapi-start hapi-stop bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## Debian packages the test suite needs (docker-compose validates docker/compose.yaml; the
## console's browser tests drive Debian's Chromium through Playwright, never a downloaded browser,
## and its screenshots need a Chinese font; the PostgreSQL tests start throw-away clusters).
system-deps:
	@command -v docker-compose >/dev/null && command -v chromium >/dev/null \
	  && command -v chromedriver >/dev/null && fc-list :lang=zh | grep -q . \
	  && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing docker-compose, chromium, chromium-driver, a CJK font, postgresql (Debian packages)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    docker-compose chromium chromium-driver fonts-wqy-microhei postgresql >/dev/null; }

## What the benchmarks need besides: wrk, the load client of `bench reads`.
bench-deps: system-deps
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

## The console's pinned front-end files (ECharts) from npm (web/package-lock.json), digest checked.
console-assets: venv
	$(BIN)/vte-facade console assets

hapi-jar: venv
	$(BIN)/vte-facade hapi build

hapi-start: venv
	$(BIN)/vte-facade hapi start

hapi-stop: venv
	$(BIN)/vte-facade hapi stop

## make run: install, build and start HAPI on embedded H2, load the IG's conformance resources,
## migrate, serve the facade on loopback.
run: venv console-assets hapi-start
	$(BIN)/vte-facade ig load
	$(BIN)/vte-facade db upgrade
	$(BIN)/vte-facade serve

## make test: install what the tests need, then the whole suite; the session fixture starts
## HAPI (fresh H2) and stops it at the end. Non-zero exit on any failure.
test: venv system-deps console-assets hapi-jar
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check facade tests bench
	$(BIN)/ruff format --check facade tests bench
	$(BIN)/mypy

check: lint test

bench: venv bench-deps console-assets hapi-jar
	$(BIN)/python -m bench

clean:
	-$(BIN)/vte-facade hapi stop
	rm -rf var build .pytest_cache .mypy_cache .ruff_cache web/node_modules facade/console/static/vendor
