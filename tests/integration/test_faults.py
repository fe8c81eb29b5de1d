"""Every Bedrock fault, injected in the emulator, reaches the client as the documented status.

Through the real path: HTTP client -> local gateway -> handler process -> boto3 -> emulator.
The `faults` runtime allows two attempts per Bedrock call and a 1 s read timeout; the
`deadline_runtime` gives each request 2 s (EMBEDROCK_REQUEST_TIMEOUT) and ten attempts, to
show that retries and slow calls stop at the deadline, long before API Gateway's 29 s.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from embedrock_local.runtime.serve import LocalRuntime
from tests.integration.conftest import API_KEY, warm_runtime, warm_up

pytestmark = pytest.mark.integration

TITAN = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"
ERROR_FIELDS = {"type", "message", "param", "code"}
# Never in any log line, whatever happens to the request that carries it.
SECRET = "zebra-quartz-sentinel 9481 confidential"


def post(runtime: LocalRuntime, path: str, body: Any) -> requests.Response:
    return requests.post(f"{runtime.url}{path}", json=body, headers={"x-api-key": API_KEY}, timeout=40)


def error_of(response: requests.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_FIELDS, body
    error: dict[str, Any] = body["error"]
    assert "Traceback" not in response.text
    return error


# (fault kind, options) -> (status, error code); Titan V2, one text, two attempts allowed.
FAULTS: list[tuple[str, dict[str, Any], int, str, int]] = [
    # kind, options, status, code, InvokeModel calls
    ("throttle", {}, 429, "bedrock_throttled", 2),
    ("not_ready", {}, 429, "model_not_ready", 2),
    ("timeout", {}, 504, "timeout", 1),  # ModelTimeoutException: Bedrock gave up; not retried
    ("timeout", {"seconds": 2}, 504, "bedrock_timeout", 1),  # past the 1 s read timeout
    ("access_denied", {}, 403, "model_access_denied", 1),
    ("internal", {}, 503, "bedrock_internal_error", 2),
    ("unavailable", {}, 503, "bedrock_unavailable", 2),
    ("model_error", {}, 502, "model_error", 1),
    ("malformed", {}, 502, "model_error", 1),  # cut-off JSON
    ("malformed", {"message": '{"embedding": "not a vector"}'}, 502, "model_error", 1),
    ("malformed", {"message": '{"embedding": [1, 2, 3]}'}, 502, "model_error", 1),  # wrong length
    ("quota_exceeded", {}, 400, "bedrock_validation", 1),
    ("not_found", {}, 404, "model_not_found", 1),
]


@pytest.mark.parametrize(
    ("kind", "options", "status", "code", "calls"),
    FAULTS,
    ids=[
        f"{kind}{'-' + '-'.join(map(str, options.values())) if options else ''}"
        for kind, options, *_ in FAULTS
    ],
)
def test_each_fault_reaches_the_client_as_its_documented_status(  # noqa: PLR0917
    faults: LocalRuntime, kind: str, options: dict[str, Any], status: int, code: str, calls: int
) -> None:
    # Given the emulator failing every InvokeModel this way
    emulator = faults.emulator
    assert emulator is not None
    emulator.faults.add(kind, **options)

    # When a text is embedded
    response = post(faults, "/embeddings", {"text": SECRET})

    # Then the client gets the documented status and error shape, after the allowed attempts
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code
    _wait_for_calls(faults, calls)  # a held call is counted when the emulator lets it go
    assert emulator.stats.calls("InvokeModel") == calls
    if status == 429:
        assert response.headers["retry-after"] == "3"


def _wait_for_calls(runtime: LocalRuntime, calls: int, timeout: float = 5.0) -> None:
    assert runtime.emulator is not None
    until = time.monotonic() + timeout
    while runtime.emulator.stats.calls("InvokeModel") < calls and time.monotonic() < until:
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("kind", "status"), [("throttle", 429), ("unavailable", 503), ("access_denied", 403)]
)
def test_model_catalog_faults_reach_the_client_too(faults: LocalRuntime, kind: str, status: int) -> None:
    assert faults.emulator is not None
    faults.emulator.faults.add(kind, operation="ListFoundationModels")
    response = requests.get(f"{faults.url}/models", headers={"x-api-key": API_KEY}, timeout=40)
    assert response.status_code == status
    error_of(response)


BURST = 6


@pytest.fixture(scope="module")
def burst_runtime() -> Iterator[LocalRuntime]:
    """One attempt more than the burst has throttles, so no call can run out of attempts however
    the retries and first attempts interleave (with two attempts, a call retried before the burst
    is spent can be throttled twice). Its backoffs add up to at most 0.5+1+2+4+8+8 = 23.5 s, inside
    the default 29 s deadline."""
    settings = {"EMBEDROCK_MAX_ATTEMPTS": str(BURST + 1)}
    with warm_runtime(settings) as started:
        yield started


def test_a_throttling_burst_is_absorbed_by_retries(burst_runtime: LocalRuntime) -> None:
    # Given a burst of throttling: the next six calls
    emulator = burst_runtime.emulator
    assert emulator is not None
    emulator.faults.add("throttle", times=BURST)

    # When 12 Titan texts are embedded (12 concurrent calls)
    texts = [f"text {i}" for i in range(12)]
    response = post(burst_runtime, "/embeddings", {"texts": texts, "dimensions": 256})

    # Then the retries absorb the burst: every vector comes back, in order
    assert response.status_code == 200, response.text
    assert emulator.stats.errors("ThrottlingException") == BURST
    assert emulator.stats.calls("InvokeModel") == 12 + BURST
    # in order: each text's vector is the one it gets with no fault at all
    calm = post(burst_runtime, "/embeddings", {"texts": texts, "dimensions": 256})
    assert calm.status_code == 200, calm.text
    assert np.allclose(response.json()["embeddings"], calm.json()["embeddings"], atol=1e-6)


def test_one_failed_text_fails_the_whole_request_without_vectors(faults: LocalRuntime) -> None:
    # Given one call in four failing in the model
    assert faults.emulator is not None
    faults.emulator.faults.add("model_error", every=4)

    response = post(faults, "/embeddings", {"texts": [f"text {i}" for i in range(8)]})

    assert response.status_code == 502
    assert "embeddings" not in response.json()
    error_of(response)


def test_partial_returns_the_vectors_that_succeeded_and_an_error_per_failed_text(
    faults: LocalRuntime,
) -> None:
    # Given one call in four failing in the model
    assert faults.emulator is not None
    faults.emulator.faults.add("model_error", every=4)

    # When eight texts are embedded with partial results
    response = post(faults, "/embeddings", {"texts": [f"text {i}" for i in range(8)], "partial": True})

    # Then two are null with their errors, six have vectors
    assert response.status_code == 200, response.text
    body = response.json()
    failed = [item["index"] for item in body["errors"]]
    assert len(failed) == 2
    assert [i for i, vector in enumerate(body["embeddings"]) if vector is None] == failed
    assert all(len(v) == 1024 for i, v in enumerate(body["embeddings"]) if i not in failed)
    for item in body["errors"]:
        assert item["status"] == 502 and set(item["error"]) == ERROR_FIELDS


def test_a_failed_cohere_batch_fails_each_of_its_texts_under_partial(faults: LocalRuntime) -> None:
    # Given one of the two Cohere calls (texts 0-95, 96-149: sent concurrently) failing
    assert faults.emulator is not None
    faults.emulator.faults.add("model_error", model="cohere.*", every=2, times=1)
    texts = [f"document {i}" for i in range(150)]

    response = post(faults, "/embeddings", {"texts": texts, "model": COHERE, "partial": True})

    # Then every text of the failed call is null with the call's 502, and the others have vectors
    assert response.status_code == 200, response.text
    body = response.json()
    failed = [item["index"] for item in body["errors"]]
    assert failed in (list(range(96)), list(range(96, 150)))
    assert {item["status"] for item in body["errors"]} == {502}
    assert [i for i, vector in enumerate(body["embeddings"]) if vector is None] == failed


def test_similarity_reports_faults_in_the_same_shape(faults: LocalRuntime) -> None:
    assert faults.emulator is not None
    faults.emulator.faults.add("throttle")
    response = post(faults, "/similarity", {"texts": ["a b", "a c"]})
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
    error_of(response)


# --- the deadline ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deadline_runtime() -> Iterator[tuple[LocalRuntime, Path]]:
    """2 s per request, ten attempts, DEBUG logs of every handler process written to a file."""
    settings = {
        "EMBEDROCK_REQUEST_TIMEOUT": "2",
        "EMBEDROCK_DEADLINE_MARGIN": "0.2",
        "EMBEDROCK_MAX_ATTEMPTS": "10",
        "EMBEDROCK_READ_TIMEOUT": "20",
    }
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "functions.log"
        with _output_to(log):
            # The handler processes start now and keep these stdout and stderr.
            started = LocalRuntime(
                containers=1, settings=settings, api_key=API_KEY, log_level="DEBUG"
            ).start()
        try:
            warm_up(started)  # the deadline tests time the deadline, not the first request's imports
            yield started, log
        finally:
            started.close()


@contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """Point this process's stdout and stderr (file descriptors 1 and 2) at a file for a while."""
    saved = [os.dup(1), os.dup(2)]
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        os.close(target)
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


@pytest.fixture
def late(deadline_runtime: tuple[LocalRuntime, Path]) -> Iterator[LocalRuntime]:
    runtime, _ = deadline_runtime
    assert runtime.emulator is not None
    runtime.emulator.faults.clear()
    runtime.emulator.stats.reset()
    yield runtime
    runtime.emulator.faults.clear()


def timed_post(runtime: LocalRuntime, body: Any) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = post(runtime, "/embeddings", body)
    return response, time.monotonic() - started


def test_latency_past_the_deadline_is_a_504_at_the_deadline(late: LocalRuntime) -> None:
    # Given Bedrock answering after 5 s, a 20 s read timeout, and 2 s per request
    assert late.emulator is not None
    late.emulator.faults.add("latency", latency_ms=5000)

    # When texts are embedded
    response, elapsed = timed_post(late, {"texts": ["one", "two", "three"]})

    # Then the client gets the deadline's 504 after ~1.8 s, not after 5 s or 29 s (the bound
    # leaves a loaded machine room and stays below the 5 s answer)
    assert response.status_code == 504
    assert error_of(response)["code"] == "deadline_exceeded"
    assert elapsed < 4.5


def test_throttling_retries_are_bounded_by_the_deadline(late: LocalRuntime) -> None:
    # Given Bedrock throttling every call, and ten attempts allowed
    assert late.emulator is not None
    late.emulator.faults.add("throttle")

    # When a text is embedded
    response, elapsed = timed_post(late, {"text": "x"})

    # Then the 429 comes at the 2 s deadline, with fewer than ten attempts spent (ten would back
    # off for ~20 s on average)
    assert response.status_code == 429 and response.headers["retry-after"]
    assert elapsed < 4.5
    assert late.emulator.stats.calls("InvokeModel") < 10


def test_partial_keeps_what_finished_before_the_deadline(late: LocalRuntime) -> None:
    # Given every third call taking 5 s
    assert late.emulator is not None
    late.emulator.faults.add("latency", latency_ms=5000, every=3)

    response, elapsed = timed_post(late, {"texts": [f"t{i}" for i in range(6)], "partial": True})

    assert response.status_code == 200, response.text
    errors = response.json()["errors"]
    assert len(errors) == 2 and {item["error"]["code"] for item in errors} == {"deadline_exceeded"}
    assert elapsed < 4.5


def test_texts_never_reach_the_logs_of_the_functions(deadline_runtime: tuple[LocalRuntime, Path]) -> None:
    # Given the functions logging at DEBUG into a file
    runtime, log = deadline_runtime
    emulator = runtime.emulator
    assert emulator is not None

    # When a secret text succeeds, fails validation, fails in Bedrock, and is compared
    post(runtime, "/embeddings", {"texts": [SECRET]})
    post(runtime, "/embeddings", {"texts": [SECRET], "dimensions": 7})
    post(runtime, "/embeddings", {"texts": [SECRET, SECRET + " " * 60_000]})
    post(runtime, "/similarity", {"query": SECRET, "documents": [SECRET, "other"]})
    post(runtime, "/v1/embeddings", {"input": [SECRET]})
    emulator.faults.add("model_error", times=1)
    post(runtime, "/embeddings", {"texts": [SECRET, "other"], "partial": True})
    emulator.faults.add("malformed", times=1)
    post(runtime, "/embeddings", {"text": SECRET})
    emulator.faults.clear()
    time.sleep(0.2)  # let the processes' output reach the file

    # Then the logs show the requests (counts, codes) but never the text
    written = log.read_text(errors="replace")
    assert '"message":"embedded"' in written and '"code":"invalid_dimensions"' in written
    assert '"code":"model_error"' in written
    assert SECRET not in written and "zebra-quartz" not in written
