# Vigie: the two commands of README.md are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: demo test install lint bench lock clean smoke-production smoke-production-celery fuzz

# Create the venv and install the locked dependency set (uv when it installs, else pip).
# Bytecode is compiled at install, as pip does in the Dockerfile: without it (uv's default, and
# PYTHONDONTWRITEBYTECODE set) every process compiles Airflow, dbt and GX again on import
# (18 s of CPU against 8 s: docs/performance.md).
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv==0.13.9 \
	  && $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock \
	  || $(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e . \
	  || $(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Generate the demo collectivité's sources, run the last 28 nights through the Airflow DAGs,
# print where to look.
demo: $(STAMP)
	time $(BIN)/vigie demo --config config/vigie.yml

# The whole test suite (CI runs exactly this through .ci/run).
test: $(STAMP)
	$(BIN)/python -m pytest -q

# Ruff, mypy (both configured in pyproject.toml), then SQL lint of the dbt models (sqlfluff,
# dbt_project/.sqlfluff): CI runs it before the tests. Rules and why: DECISIONLOG.md Part 8.
lint: $(STAMP)
	$(BIN)/ruff check vigie connectors expectations dags deploy tests
	@echo "$(BIN)/mypy  &  sqlfluff lint dbt_project/models  (side by side: one core each)"
	@$(BIN)/mypy & types=$$!; \
	  (cd dbt_project && ../$(BIN)/sqlfluff lint models --quiet --processes 1); sql=$$?; \
	  wait $$types; mypy=$$?; test $$sql -eq 0 && test $$mypy -eq 0

# The production path for real: the Airflow services of docker-compose.yml as separate processes
# on the loopback PostgreSQL, three nights compared with `vigie run`, then a dropped register, a
# night without its Maildir and an Airflow backfill (deploy/smoke_production.py, smoke_scenarios.py).
smoke-production: $(STAMP)
	$(BIN)/python -m deploy.smoke_production

# The same nights with docker-compose.celery.yml: Redis on loopback and two Celery workers, the
# warehouse's writers on one of them.
smoke-production-celery: $(STAMP)
	$(BIN)/python -m deploy.smoke_production --celery --no-scenarios

# Every benchmark script prints its figures (speed and memory targets live here, not in tests).
bench: $(STAMP)
	@set -e; for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f; done

# Seeded hostile variants of every file source through its connector (issue 17): 300 per
# source; prints crashes, lost lines, and every variant slower than 10x its clean run.
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.campaign --variants $${FUZZ_VARIANTS:-300}

# Re-resolve the lock from requirements.in (needs the package index).
lock:
	$(BIN)/uv pip compile requirements.in -o requirements.lock --python-version 3.11

clean:
	rm -rf var .pytest_cache
