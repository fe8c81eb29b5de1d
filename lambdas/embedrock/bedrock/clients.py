"""boto3 clients for Bedrock, configured once: retry mode, pool size, timeouts.

Endpoints come from boto3's own variables (AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
AWS_ENDPOINT_URL_BEDROCK), which is how the local emulator is reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from embedrock.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient


def _config(settings: Settings, *, attempts: int, validate: bool = True) -> Config:
    return Config(
        parameter_validation=validate,
        # botocore defaults to "legacy"; "standard" retries throttling, 5xx and connection
        # errors with jittered backoff (up to 20 s a wait), and leaves validation errors alone.
        retries={"mode": "standard", "total_max_attempts": attempts},
        # One pooled connection per concurrent call, so the fan-out never waits for a socket.
        max_pool_connections=max(10, settings.max_concurrency),
        connect_timeout=settings.connect_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
        tcp_keepalive=True,
    )


def runtime_client(settings: Settings) -> BedrockRuntimeClient:
    # One attempt: the embedder retries InvokeModel itself, bounded by the request's deadline
    # (botocore's waits would not know about it) and counting throttles.
    #
    # No botocore parameter validation on InvokeModel: its only inputs are the JSON string this
    # layer builds (codecs, reranker) and a model id from the catalog, both checked by this
    # service's own validation before any call, so botocore's walk over the input shape on every
    # call (~4 % of the CPU of an InvokeModel in a one-thread comparison on the emulator) proves
    # nothing. Its one limit a body could reach, 25,000,000 bytes (shape `Body` in botocore's
    # bedrock-runtime 2023-09-30 service-2.json), is far above API Gateway's 10 MB request.
    # botocore documents the switch for this purpose: "You can disable parameter validation for
    # performance reasons" (botocore Config Reference,
    # https://docs.aws.amazon.com/botocore/latest/reference/config.html). The control-plane
    # client keeps it: its calls are rare and carry ids from requests.
    return boto3.client("bedrock-runtime", config=_config(settings, attempts=1, validate=False))


def control_client(settings: Settings) -> BedrockClient:
    return boto3.client("bedrock", config=_config(settings, attempts=settings.max_attempts))
