# Jiuyuan: two set-up commands, `make run` and `make test`, each complete on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Jiuyuan needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: migrate the embedded SQLite database, create keys, seed demo data, serve on :8000
run: $(STAMP)
	$(BIN)/jiuyuan db upgrade
	$(BIN)/jiuyuan keys init
	$(BIN)/jiuyuan demo seed
	@echo "Jiuyuan on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/docs)"
	$(BIN)/jiuyuan serve --host $(HOST) --port $(PORT)

## test: lint, type-check and the whole suite (PostgreSQL half when JIUYUAN_TEST_POSTGRES_URL is set)
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q

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
