.DEFAULT_GOAL := help
VENV ?= .venv

.PHONY: install
install: ## Install podium with the dev tools into .venv
	python -m venv $(VENV) && $(VENV)/bin/pip install -e '.[dev]'

.PHONY: lint
lint: ## Lint and check formatting
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

.PHONY: typecheck
typecheck: ## pyright strict and mypy strict on src/
	. $(VENV)/bin/activate && pyright && mypy

.PHONY: test
test: ## Run the tests
	$(VENV)/bin/python -m pytest

.PHONY: bench
bench: ## Run the W1 benchmark (quick)
	$(VENV)/bin/python bench/w1.py --quick

.PHONY: help
help: ## Show this help
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "%-10s %s\n", $$1, $$2}'
