"""boto3 clients for Bedrock, configured once: retry mode, pool size, timeouts.

Endpoints come from boto3's own variables (AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
AWS_ENDPOINT_URL_BEDROCK), which is how the local emulator is reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore import handlers
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
    """Unregister botocore's per-call retry machinery from this one-attempt client.

    With `total_max_attempts` 1 botocore never retries, yet on every call its standard-mode
    handler still builds a retry context and runs its checkers, and two more handlers write the
    `amz-sdk-invocation-id` and `amz-sdk-request: attempt=1; max=1` headers, whose job is to tie
    an SDK's retries of one call together ("InvocationId provides a consistent ID across
    retries", AWS SDK for Rust, aws_runtime::invocation_id; AWS documents no other use): here
    there are none to tie. Together ~35 µs of the ~300 µs of botocore Python in a call (about 3 %
    of an InvokeModel, measured with the socket replaced by a canned answer), and two headers
    fewer to sign and send. Without a `needs-retry` handler botocore's endpoint does not retry,
    which is what attempts=1 asks for; the embedder's own retries, bounded by the deadline, are
    unchanged. Handlers are unregistered through `client.meta.events` (boto3 docs,
    "Extensibility guide", https://docs.aws.amazon.com/boto3/latest/guide/events.html); the unique
    ids are the ones botocore's retries/standard.py `register_retry_handler` gives them, and a
    test checks they are gone.
    """
    service = client.meta.service_model.service_id.hyphenize()
    events = client.meta.events
    events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")
    events.unregister(f"request-created.{service}", unique_id=f"seed-max-attempts-{service}")
    events.unregister("request-created", handlers.add_retry_headers)


def control_client(settings: Settings) -> BedrockClient:
    return boto3.client("bedrock", config=_config(settings, attempts=settings.max_attempts))
