# tokenbench — one command per task. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install browser examples-js run test test-slow lint typecheck unit bench bench-quick bench-flood attacks docs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) browser examples-js ## create .venv and install tokenbench with its dev tools (and chromium, as root)

# The browser tests drive Debian's chromium with Playwright (no browser download). As root with apt-get,
# install it when missing; otherwise say how (the tests then skip, except under CI where they fail).
browser: ## make sure chromium is installed for the browser tests
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the browser tests (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing: the browser tests will skip (sudo apt-get install -y chromium)"; fi

# The Node.js example of docs/verify-elsewhere.md runs in the tests with its pinned packages (package-lock.json).
# Without npm (or the registry), say how; the test then skips, except under CI where it fails.
JS_EXAMPLE := docs/examples/js
examples-js: ## install the pinned packages of the Node.js verify example (npm ci in docs/examples/js)
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm is missing: the Node.js example's test will skip (install Node.js 20+, then make examples-js)"; \
	elif [ ! -f $(JS_EXAMPLE)/node_modules/.package-lock.json ] || \
		[ $(JS_EXAMPLE)/package-lock.json -nt $(JS_EXAMPLE)/node_modules/.package-lock.json ]; then \
		npm ci --prefix $(JS_EXAMPLE) --no-audit --no-fund || { [ -z "$$CI" ] && \
		echo "npm ci failed: the Node.js example's test will skip (make examples-js to retry)"; }; fi

run: $(STAMP) ## start the service with demo users on SQLite under var/ (http://127.0.0.1:8000)
	TOKENBENCH_COOKIE_SECURE=$${TOKENBENCH_COOKIE_SECURE:-false} $(BIN)/tokenbench serve --demo --host $(HOST) --port $(PORT)

lint: $(STAMP) ## ruff (lint + format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(STAMP) browser examples-js ## the test suite without the slow tests (benchmark bodies run once)
	$(BIN)/pytest -q -m "not slow"

test-slow: $(STAMP) browser examples-js ## the slow tests: the smoke bench run, fleet rotation on every format (CI runs them)
	$(BIN)/pytest -q -m slow

test: lint unit ## lint, types and the whole suite

bench: $(STAMP) ## full benchmark run; writes docs/benchmarks.md
	$(BIN)/tokenbench bench --report docs/benchmarks.md

bench-quick: $(STAMP) ## quick benchmark run (under two minutes)
	$(BIN)/tokenbench bench --quick --report var/bench-quick/report.md

bench-flood: $(STAMP) ## a user's login latency alone and beside 50 junk logins/s from other addresses
	$(BIN)/python -m benchmarks.login_flood --json var/bench-flood/result.json

attacks: $(STAMP) ## run the attack catalog against every format; regenerates docs/failure-modes.md
	$(BIN)/tokenbench attacks --format all --markdown docs/failure-modes.md

clean: ## remove the virtualenv and local state
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .benchmarks $(JS_EXAMPLE)/node_modules
