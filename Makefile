# The two commands of the README: `make run` and `make test`.
# Each creates its own virtual environment from the pinned lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# Where `make run` listens: this machine only, unless told otherwise
# (`make run ADDRESS=0.0.0.0` shares it on the network: set a password first, see
# docs/deploying.md).
ADDRESS ?= 127.0.0.1

.PHONY: run test test-fast lint demo bench clean

$(BIN)/critmin: pyproject.toml requirements.lock requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

## Start the app on the embedded default data (built offline on first run).
run: $(BIN)/critmin
	$(BIN)/critmin demo --if-missing
	$(BIN)/streamlit run serve.py --server.address $(ADDRESS) --server.port $(PORT)

## Download every source's latest public release (about 1.3 GB: docs/fetching.md), and the
## monthly declarations (optional: a source that cannot be reached is left out and named), and
## load them into the default warehouse (data/warehouse, or $CRITMIN_DATA_DIR); `make run` then serves it.
## `make real RELEASE=V202601 HS=HS22` chooses the BACI release and edition; ARGS passes more
## options (`make real ARGS=--check` asks every source first and downloads nothing).
.PHONY: real
real: $(BIN)/critmin
	$(BIN)/critmin fetch all$(if $(RELEASE), --release $(RELEASE))$(if $(HS), --hs $(HS)) $(ARGS)

## The gate: format check, lint, types, tests (CI runs exactly this).
test: $(BIN)/critmin
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadfile --timeout 600

## While working: every test but those marked slow, browser or load (pyproject.toml),
## in under two minutes on two cores.
test-fast: $(BIN)/critmin
	$(BIN)/pytest -n 2 --timeout 600 -m "not slow and not browser and not load"

lint: $(BIN)/critmin
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(BIN)/critmin
	$(BIN)/critmin demo

bench: $(BIN)/critmin
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) data/warehouse
