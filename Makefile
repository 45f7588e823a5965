# lambda-promoter: everything a developer or CI needs, from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: demo sandbox test test-fast lint validate build bench clean

$(STAMP): requirements.txt requirements-dev.txt layers/promoter/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

## demo: a healthy canary and an alarm rollback on the local sandbox
demo: $(STAMP)
	$(BIN)/python -m sandbox.demo

## test: the whole suite (unit, workflow on the sandbox, contract)
test: $(STAMP)
	$(BIN)/python -m pytest -q

## lint: ruff
lint: $(STAMP)
	$(BIN)/ruff check .

## validate: SAM and cfn-lint on the template
validate: $(STAMP)
	$(BIN)/sam validate --lint --template template.yaml

## bench: figures for state transitions, wall time and import time
bench: $(STAMP)
	$(BIN)/python -m bench.transitions
	$(BIN)/python -m bench.import_time

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
