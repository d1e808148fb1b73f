.PHONY: setup setup-test run test lint bench clean

VENV := .venv
STAMP := $(VENV)/.setup-stamp
TEST_STAMP := $(VENV)/.setup-test-stamp

# `make run`: only what the assistant needs at run time (never a sound server).
setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

# `make test` / CI: also the test-only tools (private PulseAudio server, espeak-ng, sox, ...).
setup-test: $(TEST_STAMP)

$(TEST_STAMP): pyproject.toml requirements-test.lock scripts/setup.sh
	bash scripts/setup.sh --test
	touch $(TEST_STAMP)

run: setup
	$(VENV)/bin/bantz-voice run

# ruff and mypy (configured in pyproject.toml) before the tests: a lint or type error fails `make test` and CI.
lint: setup-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/python -m pytest -q

bench: setup
	$(VENV)/bin/python scripts/bench_pipeline.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
