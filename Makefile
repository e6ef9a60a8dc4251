# Two commands on a fresh machine (only python3 and make needed):
#   make demo   create .venv, install spamsim, run the lecture scenario; figures and a report in out/
#   make test   create/update .venv with the test extras and run the whole suite
#   make app    lecture mode in the browser (spamsim app): sliders, switches, live figures on localhost
#   make docs   build the documentation site into site/ (offline; open site/index.html)
# Both are idempotent: the venv is refreshed only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
OUT    ?= out

.PHONY: app demo test test-slow test-all install install-test browser lint bench fuzz docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[app]'
	@touch $@

$(VENV)/.installed-test: pyproject.toml Makefile | $(BIN)/python
	$(PIP) install -e '.[test,notebooks,docs,explore,app,app-test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	@touch $(VENV)/.installed $(VENV)/.installed-app $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# The report test renders HTML in a real headless browser. Install Debian's Chromium where
# we can (root with apt); elsewhere that one test is skipped with its reason.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "note: could not install chromium; the browser test will be skipped"; \
	else echo "note: no chromium and no root apt-get; the browser test will be skipped"; fi

demo: install
	$(BIN)/spamsim run scenarios/lecture.yaml --reps 1000 --seed 2011 --out $(OUT)/lecture
	$(BIN)/spamsim compare scenarios/japan-2011.yaml --shapley --reps 100 --seed 2011 --out $(OUT)/japan-2011
	$(BIN)/spamsim run scenarios/timeline.yaml --reps 40 --seed 2011 --out $(OUT)/timeline > /dev/null
	$(BIN)/spamsim sweep scenarios/deterrence-sweep.yaml --out $(OUT)/deterrence --resume > /dev/null
	$(BIN)/spamsim plot break-even scenarios/lecture.yaml -o $(OUT)/lecture/break-even.png
	$(BIN)/spamsim report scenarios/japan-2011.yaml --reps 100 --seed 2011 -o $(OUT)/report.html
	@echo
	@echo "Done. Open $(OUT)/report.html in a browser; figures (PNG) and data (Parquet, JSON) are in:"
	@ls -d $(OUT)/*/

# Lecture mode in the browser (needs the app extra): serves on http://127.0.0.1:8000/ and opens it.
app: $(VENV)/.installed-app
	$(BIN)/spamsim app $(APP_ARGS)

# The suite without the tests marked slow (long statistical runs, whole notebooks, the
# 1998-2012 timeline through every layer): a few minutes on 2 cores. CI runs both.
test: install-test browser
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not slow"

test-slow: install-test browser
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m slow

test-all: test test-slow

# The long fuzzing profile (>= 10,000 generated and mutated scenario files); run on purpose.
fuzz: install-test
	SPAMSIM_FUZZ_EXAMPLES=5000 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_hardening.py -k fuzz --hypothesis-show-statistics

lint: install-test
	$(BIN)/python -m ruff check spamsim tests benchmarks
	$(BIN)/python -m ruff format --check spamsim tests benchmarks

# The site: model reference (ODD), tutorial, and the CLI, scenario and API references generated
# from the code at build time (docs/hooks.py). --strict: a broken link or docstring fails the build.
docs: install-test
	$(BIN)/python -m mkdocs build --strict --site-dir site

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(OUT) site .pytest_cache .hypothesis
