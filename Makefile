# Two commands on a fresh machine (only python3 and make needed):
#   make demo   create .venv, install spamsim, run the lecture scenario into out/
#   make test   create/update .venv with the test extras and run the whole suite
# Both are idempotent: the venv is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
OUT    ?= out

.PHONY: demo test install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/spamsim run scenarios/lecture.yaml --reps 1000 --seed 2011 --out $(OUT)/lecture
	@echo "Results written to $(OUT)/lecture/ (summary.json, replications.parquet, ...)"

test: install-test
	$(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/python -m ruff check spamsim tests benchmarks || true

bench: install-test
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis
