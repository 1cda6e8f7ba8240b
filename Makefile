# The two commands of the README: `make run` and `make test`.
# Each creates its own virtual environment from the pinned lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint demo bench clean

$(BIN)/critmin: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

## Start the app on the embedded default data (built offline on first run).
run: $(BIN)/critmin
	$(BIN)/critmin demo --if-missing
	$(BIN)/streamlit run app.py --server.port $(PORT)

## The gate: format check, lint, types, tests (CI runs exactly this).
test: $(BIN)/critmin
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadfile --timeout 600

lint: $(BIN)/critmin
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(BIN)/critmin
	$(BIN)/critmin demo

bench: $(BIN)/critmin
	$(BIN)/python -m critmin.bench

clean:
	rm -rf $(VENV) data/warehouse
