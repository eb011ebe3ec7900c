# Jiuyuan: two set-up commands, `make run` and `make test`, each complete on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck bench clean deps-test node-deps

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Jiuyuan needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: migrate the embedded SQLite database, create keys, seed demo data, serve on :8000
## (with a local anvil chain that checkpoints are anchored to, stopped with the server)
run: $(STAMP) node-deps
	$(BIN)/jiuyuan db upgrade
	$(BIN)/jiuyuan keys init
	$(BIN)/jiuyuan demo seed --base-url http://$(HOST):$(PORT)
	@echo "Starting Jiuyuan on http://$(HOST):$(PORT) (API docs: /docs): ready once the log below says \"Uvicorn running\""
	@echo "  clerk app: http://$(HOST):$(PORT)/app/clerk/   compliance console: http://$(HOST):$(PORT)/app/console/"
	$(BIN)/jiuyuan anchor dev-chain -- $(BIN)/jiuyuan serve --host $(HOST) --port $(PORT)

## test: lint, type-check and the whole suite (PostgreSQL half when JIUYUAN_TEST_POSTGRES_URL is set)
## (TEST_WORKERS=0 runs it in one process; every test has its own database, so workers share nothing;
##  a module's tests run on one worker, so a module's fixtures are made once)
TEST_WORKERS ?= 2
test: $(STAMP) deps-test node-deps lint typecheck
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadscope

## deps-test: Debian tools the tests use (zbarimg decodes the QR images we emit), if missing
deps-test:
	@command -v zbarimg >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zbar-tools; } || \
		echo "zbarimg not found and apt-get unavailable: the QR decoding tests will be skipped"; }
	@# Debian's Chromium for the browser tests (tests/scanner_app; ffmpeg makes the fake camera's video)
	@{ test -x /usr/bin/chromium && command -v ffmpeg >/dev/null 2>&1; } || \
		{ command -v apt-get >/dev/null 2>&1 && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ffmpeg; } || \
		echo "chromium/ffmpeg not found and apt-get unavailable: browser tests skipped (CI fails them)"; }

## node-deps: anvil (npm @foundry-rs/anvil, package-lock.json) for anchoring, jsQR (the scan
## page's QR decoder, served at /vendor/jsqr/) and Swagger UI (the API docs at /docs, served at
## /vendor/swagger-ui/), when Node is present
node-deps:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		echo "node/npm not found: skipping anvil; make run anchors to web3's in-process chain" \
			"and the anvil tests are skipped (CI fails them)"; \
	elif [ -x node_modules/.bin/anvil ] && [ -f node_modules/jsqr/dist/jsQR.js ] && \
		[ -f node_modules/swagger-ui-dist/swagger-ui-bundle.js ] && \
		[ node_modules/.package-lock.json -nt package-lock.json ]; then \
		: ; \
	else \
		npm ci --no-audit --no-fund --loglevel=error || \
			echo "npm could not install anvil (see above); make run falls back to web3's in-process chain"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## bench: the benchmarks of bench/ on PostgreSQL (JIUYUAN_BENCH_POSTGRES_URL, default local)
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
