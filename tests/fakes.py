"""The handlers' AWS clients for offline unit tests: the emulator's in-process backend.

emulated_vector_store is the collections' store for unit tests: the real S3 Vectors adapter over
the emulator's in-process S3 Vectors backend, so filter and limit semantics are never duplicated.

FakeBedrockRuntime is the emulator's in-process bedrock-runtime client (Bedrock's bodies,
validation, token header and error codes, from the same backend the HTTP emulator serves),
plus what tests script on top: recorded calls, latency and prepared errors.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from embedrock import wiring
from embedrock.vector_store.s3vectors import S3VectorsStore
from embedrock_local.runtime.emulator import EmulatorOptions, HashEngine, InProcessEmulator
from embedrock_local.runtime.emulator import tokens as token_estimate
from embedrock_local.runtime.emulator.codec import magnitude

Runtime = TypeVar("Runtime")


def client_error(
    code: str, status: int, message: str = "error", operation: str = "InvokeModel"
) -> ClientError:
    """A ClientError as boto3 raises it: the error, and response metadata with the HTTP status."""
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "RequestId": "test-request",
                "HostId": "",
                "HTTPStatusCode": status,
                "HTTPHeaders": {},
                "RetryAttempts": 0,
            },
        },
        operation,
    )


def fake_vector(text: str, dimensions: int) -> list[float]:
    """The emulator's vector for one text, at the norm Titan gives unnormalized vectors.

    Normalize it to compare with what normalized models (Titan V2 by default, Cohere) return.
    """
    unit = HashEngine().embed([text], dimensions)[0]
    return [float(x) for x in unit * magnitude(token_estimate.count(text))]


def fake_unit_vector(text: str, dimensions: int = 1024) -> npt.NDArray[np.float64]:
    """The emulator's vector for one text at unit length: what normalized models return."""
    vector = np.array(fake_vector(text, dimensions))
    unit: npt.NDArray[np.float64] = vector / np.linalg.norm(vector)
    return unit


@contextmanager
def serving(runtime: Runtime) -> Iterator[Runtime]:
    """`runtime` as the handlers' bedrock-runtime client (wiring) for the block; then the real one."""
    wiring.override(runtime=runtime)
    try:
        yield runtime
    finally:
        wiring.reset()


def streaming(payload: dict[str, Any]) -> StreamingBody:
    raw = json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


class RawBody:
    """The raw HTTP body of an AWSResponse a `before-send` hook returns in place of the network."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


@dataclass
class FakeBedrockRuntime:
    """bedrock-runtime's invoke_model from the in-process emulator, recording each call.

    `failures` (by model id) and `fail_on_text` raise the test's own ClientError before the
    backend runs; Bedrock-worded faults go through `emulator.faults` instead.
    """

    latency_seconds: float = 0.0
    failures: dict[str, ClientError] = field(default_factory=dict)
    fail_on_text: dict[str, ClientError] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    emulator: InProcessEmulator = field(default_factory=InProcessEmulator)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._client = self.emulator.runtime_client()
        self.meta = self._client.meta  # botocore events hooked on this client fire on its calls

    def invoke_model(self, *, modelId: str, body: bytes, contentType: str, accept: str) -> dict[str, Any]:  # noqa: N803
        request = json.loads(body)
        with self._lock:
            self.calls.append((modelId, request))
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        if modelId in self.failures:
            raise self.failures[modelId]
        for text in request["texts"] if "texts" in request else [request.get("inputText")]:
            if text in self.fail_on_text:
                raise self.fail_on_text[text]
        return self._client.invoke_model(modelId=modelId, body=body, contentType=contentType, accept=accept)


@dataclass
class FakeClock:
    """A monotonic clock that only moves when slept on: pacing tests run instantly."""

    now: float = 1_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


VECTOR_BUCKET = "embedrock-test-vectors"


@contextmanager
def emulated_vector_store(data_dir: Path, bucket: str = VECTOR_BUCKET) -> Iterator[S3VectorsStore]:
    """An S3VectorsStore over a fresh in-process emulator keeping its data in `data_dir`, with
    `bucket` created; its pacing waits on a FakeClock, so no test sleeps."""
    emulator = InProcessEmulator(EmulatorOptions(data_dir=data_dir))
    try:
        client = emulator.s3vectors_client()
        client.create_vector_bucket(vectorBucketName=bucket)
        clock = FakeClock()
        yield S3VectorsStore(client, bucket, clock=clock, sleep=clock.sleep)
    finally:
        emulator.close()
