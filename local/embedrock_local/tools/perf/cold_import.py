"""cold_import: a fresh interpreter importing each handler module (its module-level set-up
included) against a minimal Bedrock caller that imports boto3 and creates the bedrock-runtime
client: what any Bedrock caller pays at a Lambda cold start.

Both run from the code asset as it ships, rebuilt here the way infra/bundling.py builds it: the
Lambda lock installed with its hashes (uv, offline, from the wheels already in its cache), the
`embedrock` package copied beside it, and the whole bundle compiled by the runtime's Python 3.13
into unchecked-hash bytecode. Only the wheels differ: this machine's platform instead of Lambda's
arm64 (the same pins, the same pure-Python bytecode; only compiled extensions differ).

Each runs in a fresh interpreter with the environment Lambda gives the deployed functions
(tracing on, so the X-Ray SDK loads and patches botocore as it does there). Only the imports are
timed (CPU time), not the interpreter's own start, which both pay alike.

An import that leaves work to the first request (the Bedrock client, numpy, the embedder,
validators built on first use) looks cheaper than it is, so the details also hold `first_request`:
the embeddings handler's import and its first POST /embeddings (one Titan text) against the
minimal caller's import, client and first invoke_model of such a text, both answered by the
emulator in a process of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

import embedrock
from embedrock import catalog, routes
from embedrock_local.tools.perf.common import Result, Sizes, Timing
from embedrock_local.tools.perf.emulated import emulated_bedrock

MAX_RATIO = 1.3
MINIMAL_CALLER = 'import boto3; boto3.client("bedrock-runtime")'
# CPU time, not wall time: it is the work a cold start does, and unlike wall time on a shared
# machine it does not swing with other processes' load.
_TIMED = "import time; started = time.process_time(); {statement}; print(time.process_time() - started)"

FIRST_TEXT = "Python is a programming language"
# The first request, as API Gateway's REST proxy sends it (received now, so its deadline is ahead)
# with a Lambda context; it must succeed, or the measure fails with the answer.
FIRST_REQUEST = """
import embedrock.handlers.embeddings as handler, types
event = {event!r}
event["requestContext"]["requestTimeEpoch"] = int(time.time() * 1000)
context = types.SimpleNamespace(
    function_name="embedrock-embeddings", memory_limit_in_mb=1024, aws_request_id="perf",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:embedrock-embeddings",
    get_remaining_time_in_millis=lambda: 29_000,
)
answer = handler.handler(event, context)
assert answer["statusCode"] == 200, answer
"""
# Any Bedrock caller's first call: its client, the request body, the answer parsed.
MINIMAL_FIRST_CALL = """
import boto3
client = boto3.client("bedrock-runtime")
body = json.dumps({{"inputText": {text!r}, "dimensions": 1024, "normalize": True}})
answer = json.loads(client.invoke_model(modelId={model!r}, body=body)["body"].read())
assert answer["embedding"], answer
"""
# What Lambda sets per invocation in _X_AMZN_TRACE_ID (the Lambda developer guide, "Custom runtimes":
# docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html; format as in Powertools' getXRayTraceIdFromEnv,
# docs.aws.amazon.com/powertools/typescript/latest/api/), here not sampled: the X-Ray SDK then records
# and sends nothing, as for any unsampled request.
TRACE_HEADER = "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0"

PACKAGE_DIR = Path(embedrock.__file__).resolve().parent
ROOT = PACKAGE_DIR.parent.parent
# The recipe's facts, as infra/bundling.py states them (tests/infra/test_bundling.py checks that
# they agree: infra itself is not imported here, it loads the CDK).
LAMBDA_LOCK = ROOT / "requirements.lock"
PYTHON_VERSION = "3.13"
CACHE_TAG = "cpython-313"
IGNORED = ("__pycache__", "*.pyc")
INVALIDATION_MODE = "unchecked-hash"
TASK_ROOT = "/var/task"
BUNDLE_PYTHON_ENV = "EMBEDROCK_BUNDLE_PYTHON"
# Every function of the asset: the HTTP ones and the ingest queue's.
HANDLERS = (*routes.FUNCTIONS, routes.INGEST)


def describe(sizes: Sizes) -> str:
    return (
        f"{len(HANDLERS)} handler modules and a minimal boto3 caller from the compiled bundle, "
        f"median of {sizes.import_runs} fresh interpreters"
    )


def runtime_python() -> str:
    """The real executable of the runtime's CPython ($EMBEDROCK_BUNDLE_PYTHON, else python3.13)."""
    candidate = os.environ.get(BUNDLE_PYTHON_ENV) or shutil.which(f"python{PYTHON_VERSION}")
    if candidate is None:
        raise RuntimeError(
            f"cold_import runs the bundle under the Lambda runtime's Python: install CPython "
            f"{PYTHON_VERSION} (`pyenv install {PYTHON_VERSION}`) or set {BUNDLE_PYTHON_ENV}"
        )
    # The executable itself, not a pyenv shim: a shim would add its own start to every run.
    found = _run(
        [candidate, "-c", "import sys; print(sys.implementation.cache_tag, sys.executable)"],
        {**os.environ, "PYENV_VERSION": PYTHON_VERSION},
        "finding the runtime's Python",
    ).split()
    if found[:1] != [CACHE_TAG]:
        raise RuntimeError(f"{candidate} is not CPython {PYTHON_VERSION} ({' '.join(found[:1])})")
    return found[1]


def install_command(uv: str, python: str, output_dir: Path) -> list[str]:
    """The Lambda lock, every pin checked against its hashes, wheels only, from uv's cache."""
    return [
        uv, "pip", "install", "--quiet", "--offline",
        "--python", python,
        "--target", str(output_dir),
        "--require-hashes", "--only-binary", ":all:", "--no-compile",
        "--requirement", str(LAMBDA_LOCK),
    ]  # fmt: skip


def compile_command(output_dir: Path, python: str) -> list[str]:
    """The bundle's compile step, flag for flag (infra/bundling.py compile_command)."""
    return [
        python, "-m", "compileall",
        "-q",
        "-j", "0",
        "--invalidation-mode", INVALIDATION_MODE,
        "-s", str(output_dir),
        "-p", TASK_ROOT,
        str(output_dir),
    ]  # fmt: skip


def build_bundle(output_dir: Path, python: str) -> int:
    """The code asset in output_dir; returns how many compiled files it holds."""
    from uv import find_uv_bin

    environment = {**os.environ, "PYENV_VERSION": PYTHON_VERSION}
    _run(
        install_command(find_uv_bin(), python, output_dir), environment, "installing the Lambda lock offline"
    )
    shutil.copytree(PACKAGE_DIR, output_dir / PACKAGE_DIR.name, ignore=shutil.ignore_patterns(*IGNORED))
    shutil.rmtree(output_dir / "bin", ignore_errors=True)
    _run(compile_command(output_dir, python), environment, "compiling the bundle")
    return sum(1 for _ in output_dir.rglob(f"*.{CACHE_TAG}.pyc"))


def cached_bundle(python: str) -> Path:
    """The bundle of the current lock and source, built once: compiling it takes longer than the
    quick measure itself, and an unchanged input gives the same files (unchecked-hash bytecode)."""
    digest = hashlib.sha256()
    sources = sorted(path for path in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in path.parts)
    for path in (LAMBDA_LOCK, Path(__file__), *sources):
        content = path.read_bytes()
        digest.update(f"{path.relative_to(ROOT)}\0{len(content)}\0".encode() + content)
    digest.update(python.encode())
    target = Path(tempfile.gettempdir()) / f"embedrock-bundle-{digest.hexdigest()[:20]}"
    if target.is_dir():
        return target
    building = Path(tempfile.mkdtemp(prefix=f"{target.name}-building-"))
    try:
        build_bundle(building, python)
        building.rename(target)  # atomic: a concurrent run sees the whole bundle or none
    except OSError:
        if not target.is_dir():  # not merely another run finishing first
            raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def lambda_environment(function: routes.Function, task_root: Path) -> dict[str, str]:
    """What Lambda sets for the deployed function (infra/functions.py), with dummy credentials."""
    return {
        "PATH": os.environ.get("PATH", ""),
        # Lambda puts the task root first on sys.path; its own read-only files are never rewritten.
        "PYTHONPATH": str(task_root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": f"embedrock-{function.name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "perf",
        "AWS_SECRET_ACCESS_KEY": "perf",
        "POWERTOOLS_SERVICE_NAME": f"embedrock-{function.name}",
        "POWERTOOLS_METRICS_NAMESPACE": "Embedrock",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def import_seconds(python: str, statement: str, environment: dict[str, str]) -> float:
    # -s: no user site-packages, which Lambda does not have either.
    output = _run([python, "-s", "-c", _TIMED.format(statement=statement)], environment, "timing an import")
    return float(output.strip().splitlines()[-1])


def measure(sizes: Sizes) -> Result:
    python = runtime_python()
    bundle = cached_bundle(python)
    compiled = sum(1 for _ in bundle.rglob(f"*.{CACHE_TAG}.pyc"))
    medians = _medians(python, bundle, sizes.import_runs)
    first_request, first_call = _first_request(python, bundle, sizes.import_runs)
    baseline = medians.pop("minimal caller")
    slowest = max(medians, key=medians.__getitem__)
    ratio = medians[slowest] / baseline
    return Result(
        name="cold_import",
        baseline=Timing("boto3 + bedrock-runtime client", baseline),
        product=Timing(f"slowest handler ({slowest})", medians[slowest]),
        ratio=ratio,
        ratio_means="slowest handler import / the minimal Bedrock caller, both from the compiled bundle",
        goal=f"<= {MAX_RATIO:g}x the minimal caller",
        met=ratio <= MAX_RATIO,
        verdict=", ".join(f"{name} {seconds / baseline:.2f}x" for name, seconds in medians.items())
        + f"; with the first request: embeddings {first_request / first_call:.2f}x",
        details={
            "runs": sizes.import_runs,
            "load_average": os.getloadavg()[0],
            "bundle": f"requirements.lock wheels for {os.uname().machine} (Lambda: arm64), "
            f"{compiled} {INVALIDATION_MODE} .pyc files",
            **{f"{name}_seconds": seconds for name, seconds in medians.items()},
            **{f"{name}_ratio": seconds / baseline for name, seconds in medians.items()},
            "first_request": {
                "what": "embeddings handler import + its first POST /embeddings (one Titan V2 text), "
                "against the minimal caller's import + client + first invoke_model of that text",
                "embeddings_seconds": first_request,
                "minimal_caller_seconds": first_call,
                "ratio": first_request / first_call,
            },
        },
    )


def _medians(python: str, bundle: Path, runs: int) -> dict[str, float]:
    statements = {function.name: f"import {function.handler.rpartition('.')[0]}" for function in HANDLERS}
    statements["minimal caller"] = MINIMAL_CALLER
    environments = {function.name: lambda_environment(function, bundle) for function in HANDLERS}
    environments["minimal caller"] = lambda_environment(routes.EMBEDDINGS, bundle)
    # Warms the file cache, and checks that the handlers load from the bundle rather than elsewhere.
    where = "import embedrock.handlers.embeddings as handler; print(handler.__file__, handler.__cached__)"
    location = _run([python, "-s", "-c", where], environments[routes.EMBEDDINGS.name], "locating the handler")
    if not location.startswith(str(bundle)):
        raise RuntimeError(f"the handlers did not load from the bundle {bundle}: {location}")
    samples: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(runs):  # interleaved, so drifting load hits every module alike
        for name, statement in statements.items():
            samples[name].append(import_seconds(python, statement, environments[name]))
    return {name: statistics.median(times) for name, times in samples.items()}


def _first_request(python: str, bundle: Path, runs: int) -> tuple[float, float]:
    """Medians of the embeddings handler's import + first request and of the minimal caller's
    import + first call, interleaved, with Bedrock emulated in a process of its own."""
    event = {
        "resource": "/embeddings",
        "path": "/embeddings",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": {
            "resourcePath": "/embeddings",
            "httpMethod": "POST",
            "path": "/prod/embeddings",
            "stage": "prod",
            "requestId": "perf",
        },
        "body": json.dumps({"texts": [FIRST_TEXT]}),
        "isBase64Encoded": False,
    }
    statements = {
        "product": f"exec({FIRST_REQUEST.format(event=event)!r})",
        "minimal": "import json; "
        + f"exec({MINIMAL_FIRST_CALL.format(text=FIRST_TEXT, model=catalog.DEFAULT_MODEL_ID)!r})",
    }
    samples: dict[str, list[float]] = {name: [] for name in statements}
    with emulated_bedrock(0.0) as emulator:
        environment = {
            **lambda_environment(routes.EMBEDDINGS, bundle),
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator.url,
            "_X_AMZN_TRACE_ID": TRACE_HEADER,
        }
        for _ in range(runs):
            for name, statement in statements.items():
                samples[name].append(import_seconds(python, statement, environment))
    return statistics.median(samples["product"]), statistics.median(samples["minimal"])


def _run(command: list[str], environment: dict[str, str], what: str) -> str:
    completed = subprocess.run(
        command, env=environment, capture_output=True, text=True, check=False, timeout=300
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"cold_import failed {what}: {' '.join(command)}\n{completed.stdout}{completed.stderr}"
        )
    return completed.stdout
