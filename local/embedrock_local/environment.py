"""Process environment for the runtime, the tools and the tests: what a function's environment
holds locally, and the one helper that sets variables for a block and puts the old ones back.

boto3 and the settings read the environment, so a tool that points them at the emulator must not
leave that behind for whatever runs next in the process (a test, another target).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


def emulator_environment(emulator_url: str) -> dict[str, str]:
    """boto3's endpoint variables for the emulator, with dummy credentials: the emulator does not
    check signatures, and nothing may reach AWS."""
    return {
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator_url,
        "AWS_ENDPOINT_URL_BEDROCK": emulator_url,
        "AWS_ENDPOINT_URL_S3VECTORS": emulator_url,
        "AWS_ACCESS_KEY_ID": "embedrock-local",
        "AWS_SECRET_ACCESS_KEY": "embedrock-local",
        "AWS_SESSION_TOKEN": "embedrock-local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def function_environment(
    emulator_url: str | None,
    *,
    log_level: str = "WARNING",
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """What the Lambda runtime would set, plus the boto3 endpoint variables for the emulator."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    environment = {
        "POWERTOOLS_SERVICE_NAME": "embedrock-local",
        "POWERTOOLS_METRICS_NAMESPACE": "Embedrock",
        # No X-Ray daemon and no CloudWatch agent on a laptop: keep stdout for logs.
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": log_level,
        "AWS_DEFAULT_REGION": region,
        # Lambda sets both; the functions read AWS_REGION (settings.region: rerank models by region).
        "AWS_REGION": region,
    }
    if emulator_url is not None:
        environment |= emulator_environment(emulator_url)
    return environment | (extra or {})


@contextmanager
def environment_set(values: Mapping[str, str]) -> Iterator[None]:
    """Set these variables for the block (boto3 and settings read them), then restore the old ones."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
