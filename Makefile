# Two commands set everything up: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test lint install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

# The test suite runs the Ray engine too, so dev installs the ray extra (about 80 MB).
$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

demo: install  ## build the bundled sample recipe into ./out and print a per-task summary
	$(BIN)/komt-data build -o out --overwrite

test: dev  ## run the whole test suite
	$(BIN)/python -m pytest

lint: dev
	$(BIN)/ruff check .

clean:
	rm -rf out .venv build dist *.egg-info .pytest_cache
