# freqopt: `make test` and `make demo` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg

.PHONY: install test test-slow demo bench bench-strategies lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "torch>=2.4,<2.14"
	$(BIN)/python -m pip install --quiet -e ".[test,data,bench]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

demo: $(STAMP)
	$(BIN)/freqopt demo

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_cluster.py
	$(BIN)/python benchmarks/bench_next_trial.py --repeats 7
	$(BIN)/python benchmarks/bench_next_trial_store.py --repeats 5
	$(BIN)/python benchmarks/bench_cli_startup.py

bench-strategies: $(STAMP)
	$(BIN)/freqopt benchmark --fleet sim --seeds 5 --budget 12 --out bench-out/sim
	$(BIN)/freqopt benchmark --fleet real --seeds 5 --budget 12 --out bench-out/real

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check freqopt tests benchmarks
	$(BIN)/mypy freqopt

clean:
	rm -rf $(VENV) build *.egg-info
