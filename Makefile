# lambda-promoter: everything a developer or CI needs, from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: venv browser checkov demo sandbox test test-fast lint typecheck validate build lock bench openapi clean

$(STAMP): requirements.txt requirements-dev.txt layers/promoter/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	# statelint (ASL validator) from the npm registry, for the contract tests
	if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(VENV)/node @wmfs/statelint@1.30.0; fi
	touch $(STAMP)

# checkov lives in a venv of its own: it pins boto3==1.35.49, which conflicts with the project's pins
CHECKOV_VENV  := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

venv: $(STAMP) $(CHECKOV_STAMP)

## browser: Debian's Chromium and ChromeDriver for the dashboard's browser test (Playwright drives
##          /usr/bin/chromium; it downloads no browser). Installed as root with apt-get when missing;
##          without them the browser test is skipped and says why.
browser:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "chromium is not installed and cannot be installed here: the browser test will be skipped"; fi

## checkov: checkov on template.yaml and templates/target-account.yaml (skips and reasons: .checkov.yaml)
checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f template.yaml -f templates/target-account.yaml

## demo: a healthy canary, an alarm rollback and a two-account pipeline on the local sandbox
demo: $(STAMP)
	$(BIN)/python -m sandbox.demo

## sandbox: local AWS on http://127.0.0.1:4566 and the promoter API on http://127.0.0.1:8080, until Ctrl-C
##          (options: make sandbox SANDBOX_ARGS="--time-scale 10 --api-port 9090")
sandbox: $(STAMP)
	$(BIN)/python -m sandbox.server $(SANDBOX_ARGS)

## test: the whole suite (unit, workflow on the sandbox, contract), on TEST_WORKERS processes
##       (make test TEST_WORKERS=0 runs it in this one)
# Two: a test's sandbox threads share one interpreter's lock, so one process keeps one core busy.
TEST_WORKERS ?= 2
test: $(STAMP) $(CHECKOV_STAMP) browser
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

## test-fast: the pure and fake-backed tests (tests/unit without the sandbox), under a minute
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit -m "not slow"

## lint: the type check, ruff's checks and ruff's formatting (checked, not applied); the same
##       commands as .pre-commit-config.yaml
lint: $(STAMP) typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## typecheck: mypy, strict on the layer (layers/promoter/promoter), the defaults on functions/,
##            promoter_cli/ and sandbox/ (settings: pyproject.toml's [tool.mypy])
typecheck: $(STAMP)
	$(BIN)/mypy

## validate: SAM and cfn-lint on the template
validate: $(STAMP)
	$(BIN)/sam validate --lint --template template.yaml

## bench: figures for state transitions, wall time and import time (import time also under the
##        template's Runtime, python3.13, when pyenv or PATH has it)
RUNTIME_PYTHON ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13)
bench: $(STAMP)
	$(BIN)/python -m bench.transitions
	$(BIN)/python -m bench.import_time
	@if [ -n "$(RUNTIME_PYTHON)" ]; then $(BIN)/python -m bench.import_time --python $(RUNTIME_PYTHON); \
	else echo "python3.13 not found: the cold import under the template's Runtime is not measured"; fi
	$(BIN)/python -m bench.client_sessions
	$(BIN)/python -m bench.sandbox_wall_time
	$(BIN)/python -m bench.rollback_latency
	$(BIN)/python -m bench.api_latency
	$(BIN)/python -m bench.dashboard_proxy
	$(BIN)/python -m bench.concurrent_promotions
	$(BIN)/python -m bench.interleavings --runs 10000
	$(BIN)/python -m bench.judge
	$(BIN)/python -m bench.fast_gate

## build: sam build for arm64 / python3.13 (needs python3.13 on PATH, e.g. from pyenv)
build: $(STAMP)
	PYENV_VERSION=3.11.7:3.12.1:3.13.0 $(BIN)/sam build --template template.yaml

## lock: resolve the layer's whole dependency tree (layers/promoter/requirements.in) into
##       layers/promoter/requirements.txt for python3.13 on arm64, at the versions the dev pins use
LOCK_CONSTRAINTS := $(VENV)/lock-constraints.txt
lock: $(STAMP)
	grep -v -e '^-r' -e '^#' -e '^$$' requirements-dev.txt > $(LOCK_CONSTRAINTS)
	$(BIN)/uv pip compile layers/promoter/requirements.in --python-version 3.13 \
		--python-platform aarch64-manylinux2014 --constraint $(LOCK_CONSTRAINTS) --custom-compile-command "make lock" \
		--annotation-style line --output-file layers/promoter/requirements.txt

## openapi: regenerate docs/openapi.json from the API's routes
openapi: $(STAMP)
	$(BIN)/python -m promoter.api > docs/openapi.json

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
