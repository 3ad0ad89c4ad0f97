# The two commands of the README's Quick start: `make run` and `make test`.
# Both create the virtualenv and install everything themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= .fpb-data

.PHONY: run test unit integration e2e deploy-check install clean bench bench-scale

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Start the whole platform on embedded defaults (own nats-server, SQLite, demo data).
run: $(STAMP)
	$(BIN)/fpb up --data-dir $(DATA_DIR) --demo

## The full test suite: unit, integration (SQLite and PostgreSQL) and end-to-end.
test: $(STAMP)
	$(BIN)/python -m pytest -q

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/e2e

## The deployment tier only (tests/deploy): compose, Kubernetes, Prometheus, contracts.
## Its system tools are installed by .ci/run; without them those tests skip, saying how.
deploy-check: $(STAMP)
	$(BIN)/python -m pytest -q tests/deploy

## The benchmark (never part of the tests): prints a table, writes bench/results/latest.json.
bench: $(STAMP)
	$(BIN)/fpb bench

## Scale-out of the intake stage on PostgreSQL, 1 and 2 replicas: writes bench/results/scale.json.
bench-scale: $(STAMP)
	$(BIN)/python -m cli.bench.scale

clean:
	rm -rf $(VENV) $(DATA_DIR)
