.PHONY: setup run test lint bench clean

VENV := .venv
STAMP := $(VENV)/.setup-stamp

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

run: setup
	$(VENV)/bin/bantz-voice run

test: setup
	$(VENV)/bin/python -m pytest -q

bench: setup
	$(VENV)/bin/python scripts/bench_pipeline.py

clean:
	rm -rf $(VENV) .pytest_cache
