"""cold_import: a fresh interpreter importing each handler module (its module-level set-up
included) against a minimal Bedrock caller that imports boto3 and creates the
bedrock-runtime client: what any Bedrock caller pays at a Lambda cold start.

Each runs in a fresh interpreter with the environment Lambda gives the deployed functions
(tracing on, so the X-Ray SDK loads and patches botocore as it does there). Only the
imports are timed (CPU time), not the interpreter's own start, which both pay alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

import embedrock
from embedrock import routes
from embedrock_local.tools.perf.common import Result, Sizes, Timing

MAX_RATIO = 1.5
MINIMAL_CALLER = 'import boto3; boto3.client("bedrock-runtime")'
# CPU time, not wall time: it is the work a cold start does, and unlike wall time on a shared
# machine it does not swing with other processes' load.
_TIMED = "import time; started = time.process_time(); {statement}; print(time.process_time() - started)"


def describe(sizes: Sizes) -> str:
    return f"{len(routes.FUNCTIONS)} handler modules and a minimal boto3 caller, median of {sizes.import_runs} fresh interpreters"


def lambda_environment(function: routes.Function) -> dict[str, str]:
    """What Lambda sets for the deployed function (infra/functions.py), with dummy credentials."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "LAMBDA_TASK_ROOT": str(Path(embedrock.__file__).resolve().parent.parent),
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


def import_seconds(statement: str, environment: dict[str, str]) -> float:
    completed = subprocess.run(
        [sys.executable, "-c", _TIMED.format(statement=statement)],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def measure(sizes: Sizes) -> Result:
    statements = {
        function.name: f"import {function.handler.rpartition('.')[0]}" for function in routes.FUNCTIONS
    }
    statements["minimal caller"] = MINIMAL_CALLER
    environments = {function.name: lambda_environment(function) for function in routes.FUNCTIONS}
    environments["minimal caller"] = lambda_environment(routes.EMBEDDINGS)
    import_seconds(
        statements[routes.EMBEDDINGS.name], environments[routes.EMBEDDINGS.name]
    )  # warm the file cache
    runs: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(sizes.import_runs):  # interleaved, so drifting load hits every module alike
        for name, statement in statements.items():
            runs[name].append(import_seconds(statement, environments[name]))
    medians = {name: statistics.median(times) for name, times in runs.items()}
    baseline = medians.pop("minimal caller")
    slowest = max(medians, key=medians.__getitem__)
    ratio = medians[slowest] / baseline
    return Result(
        name="cold_import",
        baseline=Timing("boto3 + bedrock-runtime client", baseline),
        product=Timing(f"slowest handler ({slowest})", medians[slowest]),
        ratio=ratio,
        ratio_means="slowest handler import / the minimal Bedrock caller",
        goal=f"<= {MAX_RATIO:g}x the minimal caller",
        met=ratio <= MAX_RATIO,
        verdict=", ".join(f"{name} {seconds / baseline:.2f}x" for name, seconds in medians.items()),
        details={
            "runs": sizes.import_runs,
            **{f"{name}_seconds": seconds for name, seconds in medians.items()},
            **{f"{name}_ratio": seconds / baseline for name, seconds in medians.items()},
        },
    )
