# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck check clean bench chaos upgrade lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exact versions, with the hashes of their files: requirements.lock for running,
# requirements-test.lock for the tests as well (`make upgrade` writes both anew).
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
PIP_TOOLS := pip-tools==7.6.2
COMPILE := CUSTOM_COMPILE_COMMAND="make upgrade" $(VENV)-tools/bin/pip-compile --quiet \
	--generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $@

$(VENV)/.installed-test: pyproject.toml $(TEST_LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/buurtbot run

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# Benchmarks are not tests: minutes, not seconds; figures in bench/RESULTS.md.
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

# The crash tests: real `buurtbot run` processes killed at random moments, on SQLite
# (figure 8) and three on a PostgreSQL server of their own (figure 8b).
chaos: $(VENV)/.installed-test
	$(BIN)/python -m bench chaos

# After a change to pyproject.toml: both lock files written again, keeping every pin
# that still fits (`make upgrade` takes the newest of everything instead).
lock:
	test -x $(VENV)-tools/bin/pip-compile || \
		{ $(PYTHON) -m venv $(VENV)-tools && $(VENV)-tools/bin/pip install --quiet '$(PIP_TOOLS)'; }
	$(COMPILE) -o $(LOCK) pyproject.toml
	$(COMPILE) --extra test -c $(LOCK) -o $(TEST_LOCK) pyproject.toml
	rm -f $(VENV)/.installed $(VENV)/.installed-test

# The newest versions that pyproject.toml allows, written to both lock files.
upgrade:
	test -x $(VENV)-tools/bin/pip-compile || \
		{ $(PYTHON) -m venv $(VENV)-tools && $(VENV)-tools/bin/pip install --quiet '$(PIP_TOOLS)'; }
	$(COMPILE) --upgrade -o $(LOCK) pyproject.toml
	$(COMPILE) --upgrade --extra test -c $(LOCK) -o $(TEST_LOCK) pyproject.toml
	rm -f $(VENV)/.installed $(VENV)/.installed-test

clean:
	rm -rf $(VENV) $(VENV)-tools .pytest_cache .mypy_cache .ruff_cache
