# Everything a fresh clone needs: `make report`, `make test`, `make bench`.
# The environment lives in .venv and is rebuilt when pyproject.toml changes.

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Python 3.12+ from .python-version: pyenv if present, else whatever python3.12/python3 is on PATH.
PYTHON_BOOT ?= $(shell (command -v pyenv >/dev/null && pyenv which python3.12 2>/dev/null) \
	|| command -v python3.12 || command -v python3)

.PHONY: help venv report test bench lint clean

help:
	@echo "make report   write the default interval report to reports/article/"
	@echo "make test     run the test suite"
	@echo "make bench    run the benchmarks (writes benchmarks/RESULTS.md)"
	@echo "make lint     ruff check (imports, bugbear, pyupgrade)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON_BOOT) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python >= 3.12 is required; found " + sys.version)'
	$(PYTHON_BOOT) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

report: $(STAMP)
	$(BIN)/sora-uq report --priors priors/article.toml --out reports/article

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py

# One worker per core (at most 4), a whole test file to each so that module fixtures (NUTS
# runs) are built once: on 2 cores the suite takes about 5 minutes instead of 9.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check uncertainty tests benchmarks examples

clean:
	rm -rf $(VENV) .pytest_cache
