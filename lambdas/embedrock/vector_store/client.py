"""The boto3 s3vectors client, configured once from settings: retry mode, pool size, timeouts.

Its endpoint comes from boto3's own variable AWS_ENDPOINT_URL_S3VECTORS, which is how the local
emulator is reached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from embedrock.aws_errors import response_code
from embedrock.settings import Settings
from embedrock.vector_store.errors import THROTTLING_CODES
from embedrock.vector_store.put_body import write_floats_with_orjson


def config(settings: Settings) -> Config:
    return Config(
        # botocore defaults to "legacy"; "standard" retries TooManyRequestsException (in its
        # throttling codes, and modeled retryable as throttling in the s3vectors model), 500, 503
        # and connection errors with jittered backoff, never validation (botocore/retries/
        # standard.py). total_max_attempts counts the first attempt too.
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        # The store's calls run one after another per request; the pool still matches the
        # Bedrock clients' so concurrent requests of one container never wait for a socket.
        max_pool_connections=max(10, settings.max_concurrency),
        connect_timeout=settings.connect_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
        tcp_keepalive=True,
    )


def s3vectors_client(settings: Settings, *, on_throttle: Callable[[], None] | None = None) -> Any:
    """A new s3vectors client; `on_throttle` is called once per throttled attempt, retried or not."""
    client = boto3.client("s3vectors", config=config(settings))
    # PutVectors' floats written by orjson, not botocore's serializer: ~0.74 s of CPU a call of
    # 500 x 1,024 floats otherwise, ~0.03 s so (put_body.py).
    write_floats_with_orjson(client)
    if on_throttle is not None:
        count_throttles(client, on_throttle)
    return client


def count_throttles(client: Any, on_throttle: Callable[[], None]) -> None:
    """Call `on_throttle` on each throttled attempt: botocore asks `needs-retry` after every one."""

    def attempted(response: tuple[Any, dict[str, Any]] | None = None, **_: Any) -> None:
        if response is not None and response_code(response[1]) in THROTTLING_CODES:
            on_throttle()

    client.meta.events.register("needs-retry.s3vectors", attempted)
