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
    client = boto3.client("bedrock-runtime", config=_config(settings, attempts=1, validate=False))
    _without_botocore_retry_decisions(client)
    return client


def _without_botocore_retry_decisions(client: BedrockRuntimeClient) -> None:
    """Unregister botocore's standard-mode retry handler from this one-attempt client.

    With `total_max_attempts` 1 it can never retry, yet on every call it still builds a retry
    context and runs its checkers (~25 µs of a call's ~300 µs of botocore Python, 2-3 % of an
    InvokeModel here, measured with the socket replaced by a canned answer). Without a
    `needs-retry` handler botocore's endpoint simply does not retry, which is what attempts=1 asks
    for; the embedder's own retries, bounded by the deadline, are unchanged. Handlers may be
    unregistered through `client.meta.events` (boto3 docs, "Extensibility guide",
    https://docs.aws.amazon.com/boto3/latest/guide/events.html); the unique id is the one
    botocore's retries/standard.py `register_retry_handler` gives it (a test checks it is gone).
    """
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")


def control_client(settings: Settings) -> BedrockClient:
    return boto3.client("bedrock", config=_config(settings, attempts=settings.max_attempts))
