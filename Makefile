# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test venv venv-test peers lint fmt clean i18n

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

venv: $(VENV)/.installed
venv-test: $(VENV)/.installed-test

## The main job: build a complete sample case under reports/.
demo: venv
	$(BIN)/evidencekit demo

peers:
	@bash scripts/peers.sh

lint: venv-test
	$(BIN)/ruff check evidencekit tests bench
	$(BIN)/ruff format --check evidencekit tests bench
	$(BIN)/mypy --strict  # with setup.cfg [mypy]: its files and per-module overrides
	$(BIN)/lint-imports

## The tests: venv with the test extra, peer tools (as root), ruff, mypy --strict, import layers, pytest.
test: venv-test peers lint
	$(BIN)/pytest $(PYTEST_ARGS)

fmt: venv-test
	$(BIN)/ruff format evidencekit tests bench
	$(BIN)/ruff check --fix evidencekit tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# the interface's messages: extract (babel.cfg), merge into the .po, compile the .mo (committed)
i18n: venv-test
	$(VENV)/bin/python -m evidencekit.cli.i18n_extract
