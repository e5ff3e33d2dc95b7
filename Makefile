# faceid — `make run` serves, `make test` runs the suite; both install what is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PIP    := $(BIN)/python -m pip install -q --disable-pip-version-check
export FACEID_SHARED ?= $(abspath ../shared)

.PHONY: install install-dev run test test-fast lint format eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# install: the default pipeline and the service (no TensorFlow); install-dev: every extra
# (faceid[all]) plus the test tools and linters.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(PIP) -r requirements.txt
	$(PIP) --no-deps --no-build-isolation -e .
	touch $@

$(DEV_STAMP): $(STAMP) requirements-extras.txt requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	touch $@

install: $(STAMP)

install-dev: $(DEV_STAMP)

run: install
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: install-dev
	$(BIN)/pytest

# while developing: the suite without the tests marked slow (models over many images,
# servers, benchmarks): a few minutes instead of twenty
test-fast: install-dev
	$(BIN)/pytest -m "not slow"

lint: install-dev
	$(BIN)/ruff check faceid tests bench wsgi.py gunicorn.conf.py
	$(BIN)/ruff format --check faceid tests bench
	$(BIN)/mypy faceid

format: install-dev
	$(BIN)/ruff format faceid tests bench
	$(BIN)/ruff check --fix faceid tests bench

eval: install
	$(BIN)/faceid eval --pairs $(FACEID_SHARED)/faces/deepface/master.csv \
	  --pairs $(FACEID_SHARED)/faces/deepface/face-recognition-pivot.csv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# bench: faceid against DeepFace and face_recognition in its own venv, bench/.venv;
# prints one table and writes bench/RESULTS.md.
BENCH_VENV  := bench/.venv
BENCH_PY    := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: bench

$(BENCH_PY):
	$(PYTHON) -m venv $(BENCH_VENV)

$(BENCH_STAMP): requirements.txt requirements-extras.txt requirements-bench.txt bench/requirements-nodeps.txt | $(BENCH_PY)
	$(BENCH_PY) -m pip install -q --disable-pip-version-check -r requirements-bench.txt
	$(BENCH_PY) -m pip install -q --disable-pip-version-check --no-deps -r bench/requirements-nodeps.txt
	touch $@

# BENCH_ARGS: e.g. "--quick --out bench/.venv/smoke.md" (CI's smoke run of this target)
bench: $(BENCH_STAMP)
	$(BENCH_PY) -m bench.run $(BENCH_ARGS)
